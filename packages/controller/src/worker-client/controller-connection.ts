import * as zmq from 'zeromq';
import { ProtocolError, TimeoutError, curveClientOptions, debugLogger } from '@tierkv/core';
import { decodeReply, encodeMessage } from '../protocol/codec.js';
import type { ControllerMsg, ReplyMsg } from '../protocol/messages.js';
import { RequestChannel } from '../protocol/request-channel.js';
import type { ControllerEndpoints } from './worker-client-options.js';
import type { WorkerMetrics } from './worker-metrics.js';
import type { WorkerRequestKind, WorkerStats } from './worker-stats.js';

const log = debugLogger('tierkv:worker');

/**
 * The worker's sockets to the controller: PUSH for events, DEALER(s) for requests. The PUSH
 * endpoint may be unknown until the register reply names it (connectPull). The PUSH socket is
 * `immediate`: with no completed handshake a send fails instead of queueing silently, and the
 * handshake/disconnect events tell whether anything is listening there at all.
 */
export class ControllerConnection {
  readonly #o: { requestTimeoutMs: number; sendTimeoutMs: number; authToken?: string | undefined };
  readonly #requests: RequestChannel;
  readonly #heartbeats: RequestChannel | undefined;
  readonly #stats: WorkerStats;
  readonly #metrics: WorkerMetrics;
  #push: zmq.Push | undefined;
  #pullEndpoint: string | undefined;
  #ready = false;
  /** Since when the PUSH has had no live peer (or no endpoint); undefined while it has one. */
  #downSince: number | undefined = Date.now();
  #readyWaiters: ((ok: boolean) => void)[] = [];
  #pushChain: Promise<boolean> = Promise.resolve(true);
  #closed = false;

  constructor(endpoints: ControllerEndpoints, o: { requestTimeoutMs: number; sendTimeoutMs: number; authToken?: string | undefined }, stats: WorkerStats, metrics: WorkerMetrics) {
    this.#o = o;
    this.#stats = stats;
    this.#metrics = metrics;
    this.#requests = new RequestChannel(endpoints.router, o.requestTimeoutMs, () => stats.reconnects++, o.authToken);
    this.#heartbeats = endpoints.heartbeat ? new RequestChannel(endpoints.heartbeat, o.requestTimeoutMs, () => stats.reconnects++, o.authToken) : undefined;
    if (endpoints.pull) this.connectPull(endpoints.pull);
  }

  /** The PULL endpoint events go to, once known. */
  get pullEndpoint(): string | undefined {
    return this.#pullEndpoint;
  }

  /** Whether the PUSH socket has a peer that completed the ZeroMQ handshake. */
  get pushReady(): boolean {
    return this.#ready;
  }

  /** How long the PUSH has had no peer (0 while it has one). */
  pushDownMs(now = Date.now()): number {
    return this.#downSince === undefined ? 0 : now - this.#downSince;
  }

  /** (Re)points the PUSH socket at `endpoint`; a no-op when it already is. */
  connectPull(endpoint: string): void {
    if (this.#closed || endpoint === this.#pullEndpoint) return;
    const old = this.#push;
    if (old) {
      log('events endpoint changes from %s to %s', this.#pullEndpoint, endpoint);
      old.close();
    }
    this.#pullEndpoint = endpoint;
    this.#setReady(false);
    const push = new zmq.Push({
      linger: 0,
      immediate: true,
      sendTimeout: this.#o.sendTimeoutMs,
      sendHighWaterMark: 10_000,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
      ...(this.#o.authToken === undefined ? {} : curveClientOptions(this.#o.authToken, 'tierkv-controller', 'worker.authToken')),
    });
    this.#push = push;
    // Events of a replaced socket must not touch the new one's state.
    push.events.on('handshake', () => {
      log('events socket connected to %s', endpoint);
      if (push === this.#push) this.#setReady(true);
    });
    push.events.on('disconnect', () => {
      log('events socket lost its connection to %s', endpoint);
      if (push === this.#push) this.#setReady(false);
    });
    push.connect(endpoint);
  }

  #setReady(ready: boolean): void {
    if (ready === this.#ready && (ready || this.#downSince !== undefined)) return;
    this.#ready = ready;
    if (ready) {
      this.#downSince = undefined;
      for (const w of this.#readyWaiters.splice(0)) w(true);
    } else {
      this.#downSince ??= Date.now();
    }
  }

  /** Resolves true once the PUSH has a peer, or false after `ms`. */
  waitPushReady(ms: number): Promise<boolean> {
    if (this.#ready) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), ms);
      this.#readyWaiters.push(done);
    });
  }

  /**
   * Sends one event message; resolves false if it could not be queued (counted by the caller).
   * Without a peer it fails at once rather than after the send timeout.
   */
  push(msg: ControllerMsg): Promise<boolean> {
    const payload = encodeMessage(msg);
    const run = this.#pushChain.then(async () => {
      const push = this.#push;
      if (this.#closed || !push || !this.#ready) {
        log('push skipped: %s', this.#closed ? 'closed' : !push ? 'no endpoint yet' : 'no connection');
        return false;
      }
      try {
        await push.send(payload);
        return true;
      } catch (err) {
        log('push failed: %s', (err as Error).message);
        return false;
      }
    });
    this.#pushChain = run;
    return run;
  }

  /** Sends a request and returns the validated reply; throws TimeoutError, UnavailableError or ProtocolError. */
  async request(kind: WorkerRequestKind, msg: ControllerMsg): Promise<ReplyMsg> {
    const channel = kind === 'heartbeat' && this.#heartbeats ? this.#heartbeats : this.#requests;
    const start = performance.now();
    let frame: Buffer;
    try {
      frame = await channel.request(encodeMessage(msg));
    } catch (err) {
      this.#stats.fail(kind, err instanceof TimeoutError ? 'timeout' : 'error');
      throw err;
    }
    const d = decodeReply(frame);
    if (!d.ok) {
      this.#stats.fail(kind, 'error');
      throw new ProtocolError(`controller sent an invalid reply to ${kind}: ${d.detail}`);
    }
    if (d.msg.t === 'error') {
      this.#stats.fail(kind, 'error');
      throw new ProtocolError(`controller refused ${kind}: ${d.msg.message}`);
    }
    this.#metrics.request(kind, (performance.now() - start) / 1000);
    return d.msg;
  }

  /** Waits for queued pushes to be handed to ZeroMQ. */
  async drain(): Promise<void> {
    await this.#pushChain;
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#readyWaiters.splice(0)) w(false);
    this.#push?.close();
    this.#requests.close();
    this.#heartbeats?.close();
  }
}
