import { createServer, type Server, type Socket } from 'node:net';
import { debugLogger } from '@tierkv/core';
import { QUERY_SCHEME, QueryStreamError, QueryStreamReader, queryFrameHeader } from '../protocol/query-stream.js';
import type { CloseReason } from './controller-stats.js';

const log = debugLogger('tierkv:controller');

/** How long a connection told to close may take to send what it was written. */
const END_GRACE_MS = 2_000;

export interface QueryListenerOptions {
  /** Largest request a connection may announce; past it the connection closes unread. */
  readonly maxMessageBytes: number;
  /** Reply bytes waiting for a client that does not read them; past it the connection closes. */
  readonly maxReplyBacklogBytes: number;
}

export interface QueryListenerHooks {
  /** Answers one request payload with an encoded reply; never throws. */
  answer(payload: Buffer): Buffer;
  /** A connection broke the stream envelope after its hello (an oversized message). */
  malformed(): void;
  /** A connection ended: `handshake_failed` when its first bytes were not the query hello. */
  closed(reason: CloseReason): void;
}

/**
 * The plain-TCP query listener (`tierkv+tcp://`, query-stream.ts): node:net, one request answered
 * at a time per read, on the event loop that owns the KV pool. A lookup round trip then costs two
 * loopback writes and two reads, with no hop through ZeroMQ's I/O thread and its binding.
 *
 * Bounds: a partial request is at most `maxMessageBytes`; when the kernel stops taking a
 * connection's replies it is no longer read (TCP backpressure reaches the client), and one whose
 * unsent replies still pass `maxReplyBacklogBytes` is closed. close() stops accepting, ignores
 * requests that arrive after it, and ends each connection once its replies left (or after 2 s).
 */
export class QueryListener {
  readonly #o: QueryListenerOptions;
  readonly #hooks: QueryListenerHooks;
  readonly #conns = new Set<Socket>();
  #server: Server | undefined;
  #closing = false;

  constructor(options: QueryListenerOptions, hooks: QueryListenerHooks) {
    this.#o = options;
    this.#hooks = hooks;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.#conns.size;
  }

  /** Listens on host:port (0: a free port) and resolves to the `tierkv+tcp://` endpoint. */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log('query listener error: %s', err.message));
    const addr = server.address() as { address: string; port: number };
    const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    return `${QUERY_SCHEME}://${h}:${addr.port}`;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const server = this.#server;
    const closed = server?.listening ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    await Promise.all([...this.#conns].map((s) => endSocket(s)));
    await closed;
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#conns.add(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    let reason: CloseReason = 'disconnect';
    const reader = new QueryStreamReader(this.#o.maxMessageBytes, (payload) => this.#reply(socket, payload), true);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        // Whatever went wrong, this stream cannot be read further; the listener goes on serving.
        if (err instanceof QueryStreamError && err.inHello) reason = 'handshake_failed';
        else this.#hooks.malformed();
        log('query connection closed: %s', (err as Error).message);
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#conns.delete(socket);
      this.#hooks.closed(reason);
    });
  }

  #reply(socket: Socket, payload: Buffer): void {
    if (this.#closing || socket.destroyed) return;
    const reply = this.#hooks.answer(payload);
    socket.cork();
    socket.write(queryFrameHeader(reply));
    const room = socket.write(reply);
    socket.uncork();
    if (socket.writableLength > this.#o.maxReplyBacklogBytes) {
      log('query client does not read its replies (%d bytes waiting); closing it', socket.writableLength);
      socket.destroy();
      return;
    }
    if (!room && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }
}

/** Ends a connection after what was written to it left, or destroys it after the grace period. */
function endSocket(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), END_GRACE_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end();
  });
}
