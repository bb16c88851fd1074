import type { ServerMetrics } from './server-metrics.js';

/** Where one reply goes: a client of some transport. */
export interface ReplyTarget {
  /** The client's session id: its ZeroMQ routing id, or the client id of its TCP hello. */
  readonly sessionId: string;
  /**
   * Hands a reply over. `onSent` runs exactly once, when the transport reads the frames no more:
   * they reached the kernel, or the reply was dropped (client gone, shed, shutdown). Until then
   * the frames must not change, which is what lets a zero-copy transport send L1 views.
   */
  send(frames: Uint8Array[], onSent?: () => void): void;
}

/** What a transport calls back into the server. */
export interface TransportHooks {
  /**
   * One request message (prelude, header, chunk frames) from `from`. `release`, when given, is
   * called once nothing reads the frames any more: their buffer then serves a later message.
   */
  onMessage(from: ReplyTarget, frames: Buffer[], release?: () => void): void;
  /** The client is gone or was shed: release what its session holds. */
  dropSession(sessionId: string): void;
  readonly metrics: ServerMetrics;
}

/** A way of carrying protocol messages: ZeroMQ ROUTER/DEALER, or a plain TCP byte stream. */
export interface ServerTransport {
  /**
   * True when a reply may carry views of L1 memory: `onSent` then runs only once the bytes left
   * the process, so the server holds the L1 read locks (the lease) until it runs.
   */
  readonly zeroCopy: boolean;
  /** Connected clients now. */
  readonly connected: number;
  /** Reply bytes waiting to be sent, all clients, and the most ever. */
  readonly replyBytes: number;
  readonly peakReplyBytes: number;
  /** Binds and starts receiving; resolves with the endpoint clients connect to. */
  bind(host: string, port: number): Promise<string>;
  /** Throws away every waiting reply (shutdown, after the last answers were given their turn). */
  clearReplies(): void;
  /** Stops receiving and closes every connection. */
  close(): Promise<void>;
}
