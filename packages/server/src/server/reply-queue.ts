import { ReplyBudget, type ReplyAccount, type ShedReason } from './reply-budget.js';

/** What handing one reply to the socket did. */
export type SendResult = 'sent' | 'full' | 'gone';

export interface ReplyQueueOptions {
  /** Reply bytes one client may have waiting here; past it the client is shed. */
  readonly maxBytesPerClient: number;
  /** Reply bytes all clients may have waiting here; past it the client holding the most is shed. */
  readonly maxBytes: number;
  /** A client whose oldest waiting reply could not be sent for this long is shed. */
  readonly stallMs: number;
  /** Tries to hand a reply to the socket without waiting ('full': the peer's pipe is at its HWM). */
  readonly send: (identity: Buffer, frames: Uint8Array[]) => Promise<SendResult>;
  /** The client's replies were thrown away (`replies` of them); drop its session. */
  readonly onShed: (peer: string, reason: ShedReason, replies: number) => void;
  /** The client is no longer connected; its waiting replies were thrown away. */
  readonly onGone: (peer: string, replies: number) => void;
  readonly now?: () => number;
}

/** Refusals retried on the next turn of the event loop before backing off with timers. */
const IMMEDIATE_RETRIES = 16;
const FIRST_RETRY_MS = 1;
const MAX_RETRY_MS = 50;

interface Pending {
  readonly frames: Uint8Array[];
  readonly bytes: number;
  readonly since: number;
}

/** One client with replies waiting (forgotten once its queue is empty). */
class Peer {
  readonly queue: Pending[] = [];
  readonly account: ReplyAccount<Peer>;
  pumping = false;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** Refusals in a row: the first few are retried at once (the pipe usually drains in microseconds). */
  refusals = 0;
  delayMs = FIRST_RETRY_MS;
  closed = false;

  constructor(
    readonly key: string,
    readonly identity: Buffer,
    budget: ReplyBudget<Peer>,
  ) {
    this.account = budget.open(this);
  }
}

/**
 * Replies on their way to clients, bounded in bytes. ZeroMQ's send high-water mark counts messages,
 * so one large reply or a thousand look alike to it: here every reply waits in a per-client FIFO,
 * counted in bytes, until the socket takes it. A reply the socket refuses (the client's pipe is
 * full because it does not read) stays queued and is retried on a short backoff timer; a client
 * the ReplyBudget sheds (past its byte budget, the largest when the total budget is exceeded, or
 * stalled) has its replies thrown away and the server drops its session. Other clients' queues are
 * untouched.
 */
export class ReplyQueue {
  readonly #o: ReplyQueueOptions;
  readonly #now: () => number;
  readonly #peers = new Map<string, Peer>();
  readonly #budget: ReplyBudget<Peer>;

  constructor(options: ReplyQueueOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#budget = new ReplyBudget({
      maxBytesPerClient: options.maxBytesPerClient,
      maxBytes: options.maxBytes,
      onShed: (peer, reason) => {
        const n = peer.queue.length;
        this.#remove(peer);
        this.#o.onShed(peer.key, reason, n);
      },
    });
  }

  /** Reply bytes waiting for the socket, all clients. */
  get bytes(): number {
    return this.#budget.bytes;
  }

  /** The most reply bytes that were ever waiting at once (checked against the budgets in tests). */
  get peakBytes(): number {
    return this.#budget.peakBytes;
  }

  /** Queues a reply of `bytes` bytes to `identity` and sends what the socket takes. */
  push(identity: Buffer, frames: Uint8Array[], bytes: number): void {
    const key = identity.toString('latin1');
    let peer = this.#peers.get(key);
    if (!peer) {
      peer = new Peer(key, identity, this.#budget);
      this.#peers.set(key, peer);
    }
    peer.queue.push({ frames, bytes, since: this.#now() });
    // May shed this peer (client or total budget) or another one (total budget).
    this.#budget.charge(peer.account, bytes);
    if (!peer.closed && !peer.pumping && !peer.timer) void this.#pump(peer);
  }

  /** Throws away everything queued (shutdown). */
  clear(): void {
    for (const p of [...this.#peers.values()]) this.#remove(p);
  }

  async #pump(peer: Peer): Promise<void> {
    peer.pumping = true;
    try {
      while (peer.queue.length > 0 && !peer.closed) {
        const head = peer.queue[0]!;
        const result = await this.#o.send(peer.identity, head.frames);
        if (peer.closed) return;
        if (result === 'sent') {
          peer.queue.shift();
          this.#budget.release(peer.account, head.bytes);
          peer.refusals = 0;
          peer.delayMs = FIRST_RETRY_MS;
        } else if (result === 'gone') {
          const n = peer.queue.length;
          this.#remove(peer);
          this.#o.onGone(peer.key, n);
          return;
        } else {
          if (this.#now() - head.since >= this.#o.stallMs) return this.#budget.shed(peer.account, 'stalled');
          // The client's pipe is full. A client that reads empties it within microseconds (its
          // replies were merely pipelined faster than libzmq's I/O thread writes them): retry on the
          // next turn. One that stays full backs off on timers until it reads, or is shed.
          const retry = (): void => {
            peer.timer = undefined;
            void this.#pump(peer);
          };
          if (++peer.refusals <= IMMEDIATE_RETRIES) peer.timer = setImmediate(retry);
          else {
            peer.timer = setTimeout(retry, peer.delayMs).unref();
            peer.delayMs = Math.min(peer.delayMs * 2, MAX_RETRY_MS);
          }
          return;
        }
      }
      if (peer.queue.length === 0) this.#remove(peer);
    } finally {
      peer.pumping = false;
    }
  }

  #remove(peer: Peer): void {
    if (peer.closed) return;
    peer.closed = true;
    if (peer.timer) {
      clearTimeout(peer.timer as NodeJS.Timeout);
      clearImmediate(peer.timer as NodeJS.Immediate);
    }
    peer.timer = undefined;
    // Every waiting reply is thrown away: their bytes go back to the budget at once.
    this.#budget.close(peer.account);
    peer.queue.length = 0;
    if (this.#peers.get(peer.key) === peer) this.#peers.delete(peer.key);
  }
}
