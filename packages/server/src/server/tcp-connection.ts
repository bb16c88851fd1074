import type { Socket } from 'node:net';
import { adoptWithOnread } from './accepted-socket.js';
import { messageBuffers } from '../protocol/stream-envelope.js';
import { FrameReader, StreamFramingError, type StreamLimits } from '../protocol/stream-framing.js';
import { TurnWriter } from '../protocol/turn-writer.js';
import type { ReplyAccount, ReplyBudget, ShedReason } from './reply-budget.js';
import type { ReplyTarget } from './server-transport.js';

/** One reply written to the socket whose bytes have not all reached the kernel yet. */
interface InFlightReply {
  readonly bytes: number;
  readonly since: number;
  readonly onSent: (() => void) | undefined;
  done: boolean;
}

export interface TcpConnectionEvents {
  /** The hello named the client: the connection now serves that session. */
  hello(conn: TcpConnection): void;
  /** `release`, when given, recycles the frames' buffer once the message was served (see FrameReader). */
  message(conn: TcpConnection, frames: Buffer[], release: (() => void) | undefined): void;
  /** The peer broke the stream envelope or the hello (counted by the transport). */
  framingError(conn: TcpConnection, err: StreamFramingError): void;
  sent(bytes: number): void;
  /** Replies thrown away unsent (the connection closed or was shed first). */
  dropped(conn: TcpConnection, replies: number): void;
  closed(conn: TcpConnection): void;
}

/**
 * One client over plain TCP. Replies are written at once, frames as they are (L1 views included):
 * Node keeps references, not copies, until libuv wrote them, and the write callback says so. Every
 * reply is counted in bytes from the write until its callback (charged to the connection's account
 * in the transport's ReplyBudget), so a client that does not read is shed before it pins more than
 * its budget; `onSent` of each reply runs after its callback, or when the connection closes, never
 * before.
 *
 * Replies written in one turn of the event loop are corked together and leave in one writev.
 */
export class TcpConnection implements ReplyTarget {
  readonly socket: Socket;
  readonly #events: TcpConnectionEvents;
  readonly #reader: FrameReader;
  readonly #now: () => number;
  readonly #inFlight: InFlightReply[] = [];
  #sessionId: string | undefined;
  readonly #budget: ReplyBudget<TcpConnection>;
  /** Each reply is charged here from its write until its callback or the close; closed with the socket. */
  readonly replyAccount: ReplyAccount<TcpConnection>;
  readonly #writer: TurnWriter;
  #closed = false;

  /** `accepted` is paused (`pauseOnConnect`): reading starts once the reader is in place. */
  constructor(accepted: Socket, limits: StreamLimits, events: TcpConnectionEvents, budget: ReplyBudget<TcpConnection>, now: () => number) {
    this.#events = events;
    this.#now = now;
    this.#reader = new FrameReader(
      limits,
      (frames, release) => events.message(this, frames, release),
      (id) => {
        this.#sessionId = id;
        events.hello(this);
      },
    );
    const broken = (err: unknown) => {
      // Whatever went wrong, this stream cannot be read further; the process goes on serving.
      events.framingError(this, err instanceof StreamFramingError ? err : new StreamFramingError(`reading the stream failed: ${(err as Error).message}`));
      this.destroy();
    };
    // Reads land where the reader says: a chunk frame is read straight into its own buffer.
    const adopted = adoptWithOnread(accepted, {
      buffer: () => this.#reader.nextReadBuffer(),
      callback: (n, buf) => {
        try {
          this.#reader.read(n, buf as Buffer);
        } catch (err) {
          broken(err);
        }
        return true;
      },
    });
    const socket = adopted ?? accepted;
    this.socket = socket;
    if (!adopted) {
      socket.on('data', (chunk: Buffer) => {
        try {
          this.#reader.push(chunk);
        } catch (err) {
          broken(err);
        }
      });
    }
    this.#budget = budget;
    this.replyAccount = budget.open(this);
    this.#writer = new TurnWriter(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#onClose());
    socket.resume();
  }

  /** Known after the hello. */
  get sessionId(): string {
    return this.#sessionId ?? '';
  }

  get hasHello(): boolean {
    return this.#sessionId !== undefined;
  }

  /** Reply bytes written but not yet handed to the kernel. */
  get replyBytes(): number {
    return this.replyAccount.bytes;
  }

  /** Set when the budget shed this client, so its dropped replies count as slow, not gone. */
  get shedReason(): ShedReason | undefined {
    return this.replyAccount.shedReason;
  }

  /** When the oldest reply still waiting for the kernel was written, or undefined. */
  get oldestReplySince(): number | undefined {
    for (const r of this.#inFlight) if (!r.done) return r.since;
    return undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(frames: Uint8Array[], onSent?: () => void): void {
    // Shed or closing: the socket writes nothing more, so nothing is held for it.
    if (this.#closed || this.socket.destroyed) {
      onSent?.();
      this.#events.dropped(this, 1);
      return;
    }
    const buffers = messageBuffers(frames);
    let bytes = 0;
    for (const b of buffers) bytes += b.byteLength;
    const reply: InFlightReply = { bytes, since: this.#now(), onSent, done: false };
    this.#inFlight.push(reply);
    this.#writer.writeBuffers(buffers, (err) => this.#written(reply, err));
    // Last: the budget may shed this very connection, whose close then settles the reply just written.
    this.#budget.charge(this.replyAccount, bytes);
  }

  /** Closes at once; replies not yet written are dropped (their `onSent` runs). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Closes after what was written leaves, or at once after `timeoutMs`. */
  end(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), timeoutMs);
      timer.unref();
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  #written(reply: InFlightReply, err: Error | null | undefined): void {
    if (reply.done) return;
    if (err) return; // the connection is closing: #onClose settles every reply left
    reply.done = true;
    this.#settle(reply);
    this.#events.sent(reply.bytes);
    // Replies complete in order; forget the settled head.
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.done) this.#inFlight.shift();
  }

  #settle(reply: InFlightReply): void {
    this.#budget.release(this.replyAccount, reply.bytes);
    reply.onSent?.();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    // libuv has let go of every buffer by now (a closed handle writes nothing): the leases behind
    // unsent replies may end.
    let unsent = 0;
    for (const r of this.#inFlight) {
      if (r.done) continue;
      r.done = true;
      unsent++;
      this.#settle(r);
    }
    this.#inFlight.length = 0;
    this.#budget.close(this.replyAccount);
    if (unsent > 0) this.#events.dropped(this, unsent);
    this.#events.closed(this);
  }
}
