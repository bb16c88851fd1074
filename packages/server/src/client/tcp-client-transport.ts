import { connect, type Socket } from 'node:net';
import { UnavailableError } from '@tierkv/core';
import { encodeHello } from '../protocol/stream-envelope.js';
import { FrameReader, StreamFramingError } from '../protocol/stream-framing.js';
import { TurnWriter } from '../protocol/turn-writer.js';
import type { ClientTransport, ClientTransportEvents } from './client-transport.js';
import type { ResolvedTierkvClientOptions } from './client-options.js';

/** Frames one reply may have: a prelude, a header, and chunk frames (bounded by bytes as well). */
const MAX_REPLY_FRAMES = 1 << 20;

/** Host and port of a `tierkv+tcp://host:port` endpoint (IPv6 hosts in brackets). */
export function tcpEndpointAddress(endpoint: string): { host: string; port: number } | undefined {
  const m = /^tierkv\+tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(endpoint);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * One plain TCP connection to a `tierkv+tcp://` server: the hello names the client (its session),
 * then length-prefixed messages both ways. Requests written in one turn of the event loop are
 * corked into one writev; chunk bytes are written from the caller's buffers as they are. A reply is
 * read into buffers of its exact frame sizes, at most `maxReplyBytes` per reply. When the connection
 * breaks, `lost` fires once: the server ended the session (and its locks) with it.
 */
export class TcpClientTransport implements ClientTransport {
  readonly #socket: Socket;
  readonly #events: ClientTransportEvents;
  readonly #endpoint: string;
  readonly #writer: TurnWriter;
  #lost = false;
  #closed = false;

  constructor(o: ResolvedTierkvClientOptions, events: ClientTransportEvents) {
    const address = tcpEndpointAddress(o.endpoint)!;
    this.#events = events;
    this.#endpoint = o.endpoint;
    const reader = new FrameReader(
      { maxFrames: MAX_REPLY_FRAMES, maxFrameBytes: o.maxReplyBytes, maxMessageBytes: o.maxReplyBytes },
      (frames) => events.reply(frames),
      undefined,
      events.destination,
    );
    // Reads land where the reader says: a large chunk frame is read straight into its own buffer.
    const socket = connect({
      host: address.host,
      port: address.port,
      noDelay: true,
      onread: {
        buffer: () => reader.nextReadBuffer(),
        callback: (n: number, buf: Uint8Array) => {
          try {
            reader.read(n, buf as Buffer);
          } catch (err) {
            // A broken envelope (or a failure reading it): this stream cannot be read further.
            const why = err instanceof StreamFramingError ? `broke the stream framing (${err.message})` : `sent a reply that could not be read (${(err as Error).message})`;
            this.#lose(new UnavailableError(`the server at ${this.#endpoint} ${why}; the connection was closed`, { cause: err }));
            socket.destroy();
          }
          return true;
        },
      },
    });
    this.#socket = socket;
    this.#writer = new TurnWriter(socket, true);
    socket.setKeepAlive(true, 10_000);
    socket.write(encodeHello(o.clientId));
    socket.on('error', (err) => this.#lose(new UnavailableError(`connection to ${this.#endpoint} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.#lose(new UnavailableError(`the connection to ${this.#endpoint} closed before the reply came (server restarted, shut down, or shed this client)`)));
  }

  send(frames: readonly Uint8Array[], done: (err?: Error) => void): void {
    if (this.#lost || this.#closed) return done(new UnavailableError(`the connection to ${this.#endpoint} is closed`));
    this.#writer.write(frames, (err) => done(err ?? undefined));
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #lose(err: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    if (!this.#closed) this.#events.lost(err);
  }
}
