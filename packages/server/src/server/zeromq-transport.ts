import { debugLogger } from '@tierkv/core';
import { Router } from 'zeromq';
import { framesBytes } from '../protocol/codec.js';
import { ReplyQueue, type SendResult } from './reply-queue.js';
import type { ResolvedTierkvServerOptions } from './server-options.js';
import type { ReplyTarget, ServerTransport, TransportHooks } from './server-transport.js';
import { serverSocketOptions } from './socket-options.js';

const log = debugLogger('tierkv:server');

/**
 * The ZeroMQ transport: a ROUTER socket (clients use DEALER sockets). Replies are routed with
 * ROUTER_MANDATORY and a zero send timeout through a byte-bounded ReplyQueue: a client that does
 * not read is shed (counted) instead of blocking the socket or growing memory. Inbound frames are
 * capped by socket-options.ts; with an authToken the socket speaks CURVE.
 *
 * Not zero-copy: libzmq sends a buffer in place and reads it on its I/O thread after send()
 * resolves, with no callback JavaScript sees, so replies are copies of L1 and locks end with them.
 */
export class ZeromqTransport implements ServerTransport {
  readonly zeroCopy = false;
  readonly #o: ResolvedTierkvServerOptions;
  readonly #hooks: TransportHooks;
  readonly #replies: ReplyQueue;
  #router: Router | undefined;
  #loop: Promise<void> | undefined;
  #connected = 0;

  constructor(options: ResolvedTierkvServerOptions, hooks: TransportHooks) {
    this.#o = options;
    this.#hooks = hooks;
    this.#replies = new ReplyQueue({
      maxBytesPerClient: options.maxReplyBytesPerClient,
      maxBytes: options.maxReplyBytes,
      stallMs: options.requestTimeoutMs,
      send: (identity, frames) => this.#trySend(identity, frames),
      onShed: (peer, reason, replies) => {
        log('shed client %o (%s) with %d replies waiting', peer, reason, replies);
        hooks.metrics.shed(reason);
        hooks.metrics.dropped('peer_slow', replies);
        // Whatever it held is released now, not at lease expiry.
        hooks.dropSession(peer);
      },
      onGone: (peer, replies) => {
        hooks.metrics.dropped('peer_gone', replies);
        hooks.dropSession(peer);
      },
      now: options.now,
    });
  }

  get connected(): number {
    return this.#connected;
  }

  get replyBytes(): number {
    return this.#replies.bytes;
  }

  get peakReplyBytes(): number {
    return this.#replies.peakBytes;
  }

  async bind(host: string, port: number): Promise<string> {
    const router = new Router(serverSocketOptions(this.#o));
    this.#router = router;
    const metrics = this.#hooks.metrics;
    router.events.on('accept', () => this.#connected++);
    router.events.on('disconnect', () => {
      this.#connected = Math.max(0, this.#connected - 1);
      metrics.connectionClosed('disconnect');
    });
    for (const e of ['handshake:error:protocol', 'handshake:error:auth', 'handshake:error:other'] as const) {
      router.events.on(e, () => metrics.connectionClosed('handshake_failed'));
    }
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const address = `tcp://${h}:${port === 0 ? '*' : port}`;
    try {
      // Bind errors pass through as they are (`code: 'EADDRINUSE'`, `address` / `port`), so callers
      // such as the CLI can name the flag to change.
      await router.bind(address);
    } catch (err) {
      router.close();
      throw err;
    }
    this.#loop = this.#receiveLoop(router);
    return router.lastEndpoint ?? address;
  }

  clearReplies(): void {
    this.#replies.clear();
  }

  async close(): Promise<void> {
    this.#replies.clear();
    this.#router?.close();
    await this.#loop?.catch(() => undefined);
  }

  async #receiveLoop(router: Router): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch (err) {
        if (router.closed) return;
        if ((err as { code?: string }).code !== 'EAGAIN') log('receive failed: %s', (err as Error).message);
        continue;
      }
      try {
        this.#hooks.onMessage(this.#target(frames[0]!), frames.slice(1));
      } catch (err) {
        // Never let one message end the loop.
        log('dropped a message: %s', (err as Error).message);
      }
    }
  }

  #target(identity: Buffer): ReplyTarget {
    return {
      sessionId: identity.toString('latin1'),
      send: (frames, onSent) => {
        const router = this.#router;
        if (router && !router.closed) this.#replies.push(identity, frames, framesBytes(frames));
        // Replies here never hold L1 views (zeroCopy is false): nothing waits for the bytes.
        onSent?.();
      },
    };
  }

  /** Hands one reply to libzmq without waiting: the ReplyQueue keeps what the client's pipe refuses. */
  async #trySend(identity: Buffer, frames: Uint8Array[]): Promise<SendResult> {
    const router = this.#router;
    if (!router || router.closed) return 'gone';
    try {
      await router.send([identity, ...frames]);
      this.#hooks.metrics.sent(framesBytes(frames));
      return 'sent';
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EAGAIN') return 'full';
      // EHOSTUNREACH: the client is gone.
      if (code !== 'EHOSTUNREACH' && !router.closed) log('send failed: %s', String((err as Error).message));
      return 'gone';
    }
  }
}
