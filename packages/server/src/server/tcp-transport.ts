import { createServer, type Server, type Socket } from 'node:net';
import { debugLogger } from '@tierkv/core';
import type { StreamLimits } from '../protocol/stream-framing.js';
import { ReplyBudget } from './reply-budget.js';
import type { ResolvedTierkvServerOptions } from './server-options.js';
import type { ServerTransport, TransportHooks } from './server-transport.js';
import { maxHeaderBytes, maxRequestFrameBytes } from './socket-options.js';
import { TcpConnection } from './tcp-connection.js';

const log = debugLogger('tierkv:server');

/** The URL scheme of this transport's endpoints (TierkvClient picks the transport by it). */
export const TCP_SCHEME = 'tierkv+tcp';
/** How long a connection that was told to close may take to send what it was written. */
const END_GRACE_MS = 2_000;

/** Caps of a request stream: the same bounds as the ZeroMQ socket's, checked before buffering. */
export function requestStreamLimits(o: ResolvedTierkvServerOptions): StreamLimits {
  return {
    // Prelude, header, one frame per key.
    maxFrames: o.maxKeysPerRequest + 2,
    maxFrameBytes: maxRequestFrameBytes(o),
    // Up to this an oversized request is still read and answered TOO_LARGE; beyond it the
    // connection closes before a byte of payload is buffered.
    maxMessageBytes: Math.min(o.maxPayloadBytes + maxHeaderBytes(o), Number.MAX_SAFE_INTEGER),
  };
}

/**
 * The plain-TCP transport (`tierkv+tcp://`): node:net, length-prefixed frames (stream-framing.ts).
 * Zero-copy: retrieve replies are L1 views, written to the socket as they are; the server holds
 * their read locks until the write callback (the bytes are in the kernel) or the connection's
 * close. A client is one connection; its session ends (locks released) when the connection does.
 *
 * Bounds: a partial request is at most `maxMessageBytes`; reply bytes not yet in the kernel are
 * at most `maxReplyBytesPerClient` per client and `maxReplyBytes` in all (past them the client, or
 * the one holding most, is shed: disconnected, its session dropped), and a client whose oldest
 * reply waits `requestTimeoutMs` is shed as stalled. A connection must send its hello within
 * `requestTimeoutMs`. No CURVE: an `authToken` is refused with this transport (docs/security.md).
 */
export class TcpTransport implements ServerTransport {
  readonly zeroCopy = true;
  readonly #o: ResolvedTierkvServerOptions;
  readonly #hooks: TransportHooks;
  readonly #limits: StreamLimits;
  readonly #conns = new Set<TcpConnection>();
  /** The connection serving each session (a second hello with the same id takes it over). */
  readonly #bySession = new Map<string, TcpConnection>();
  #server: Server | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  readonly #budget: ReplyBudget<TcpConnection>;

  constructor(options: ResolvedTierkvServerOptions, hooks: TransportHooks) {
    this.#o = options;
    this.#hooks = hooks;
    this.#limits = requestStreamLimits(options);
    this.#budget = new ReplyBudget({
      maxBytesPerClient: options.maxReplyBytesPerClient,
      maxBytes: options.maxReplyBytes,
      onShed: (conn, reason) => {
        log('shed client %o (%s) with %d reply bytes waiting', conn.sessionId, reason, conn.replyBytes);
        hooks.metrics.shed(reason);
        // Its unsent replies are dropped (peer_slow) and their bytes released when the socket closes.
        conn.destroy();
      },
    });
  }

  get connected(): number {
    return this.#bySession.size;
  }

  get replyBytes(): number {
    return this.#budget.bytes;
  }

  get peakReplyBytes(): number {
    return this.#budget.peakBytes;
  }

  async bind(host: string, port: number): Promise<string> {
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log('listen socket error: %s', err.message));
    const period = Math.max(10, Math.min(1_000, Math.floor(this.#o.requestTimeoutMs / 4)));
    this.#stallTimer = setInterval(() => this.#checkStalls(), period);
    this.#stallTimer.unref();
    const addr = server.address() as { address: string; port: number };
    const h = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    return `${TCP_SCHEME}://${h}:${addr.port}`;
  }

  clearReplies(): void {
    // Replies are in the sockets already; close() ends them.
  }

  async close(): Promise<void> {
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    const server = this.#server;
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    await Promise.all([...this.#conns].map((c) => c.end(END_GRACE_MS)));
    await closed;
  }

  #accept(socket: Socket): void {
    const now = this.#o.now;
    const metrics = this.#hooks.metrics;
    const conn = new TcpConnection(
      socket,
      this.#limits,
      {
        hello: (c) => {
          clearTimeout(helloTimer);
          const previous = this.#bySession.get(c.sessionId);
          this.#bySession.set(c.sessionId, c);
          // The same client reconnected: the newer connection serves its session.
          if (previous && previous !== c) previous.destroy();
        },
        message: (c, frames, release) => {
          try {
            this.#hooks.onMessage(c, frames, release);
          } catch (err) {
            release?.();
            log('dropped a message: %s', (err as Error).message);
          }
        },
        framingError: (c, err) => {
          log('closing a connection that broke the stream framing: %s', err.message);
          metrics.rejected('malformed');
          if (!c.hasHello) metrics.connectionClosed('handshake_failed');
        },
        sent: (bytes) => metrics.sent(bytes),
        dropped: (c, replies) => metrics.dropped(c.shedReason ? 'peer_slow' : 'peer_gone', replies),
        closed: (c) => {
          clearTimeout(helloTimer);
          this.#conns.delete(c);
          if (!c.hasHello) return;
          metrics.connectionClosed('disconnect');
          if (this.#bySession.get(c.sessionId) === c) {
            this.#bySession.delete(c.sessionId);
            // Whatever the client held is released now, not at lease expiry.
            this.#hooks.dropSession(c.sessionId);
          }
        },
      },
      this.#budget,
      now,
    );
    this.#conns.add(conn);
    const helloTimer = setTimeout(() => {
      if (conn.hasHello || conn.closed) return;
      metrics.connectionClosed('handshake_failed');
      conn.destroy();
    }, this.#o.requestTimeoutMs);
    helloTimer.unref();
  }

  #checkStalls(): void {
    const now = this.#o.now();
    for (const c of this.#conns) {
      const since = c.oldestReplySince;
      if (since !== undefined && now - since >= this.#o.requestTimeoutMs) this.#budget.shed(c.replyAccount, 'stalled');
    }
  }
}
