import * as zmq from 'zeromq';
import { ProtocolError, TimeoutError, debugLogger } from '@tierkv/core';
import { decodeReply, encodeMessage } from '../protocol/codec.js';
import type { ControllerMsg, ReplyMsg } from '../protocol/messages.js';
import { RequestChannel } from '../protocol/request-channel.js';
import type { ControllerEndpoints } from './worker-client-options.js';
import type { WorkerMetrics } from './worker-metrics.js';
import type { WorkerRequestKind, WorkerStats } from './worker-stats.js';

const log = debugLogger('tierkv:worker');

/** The worker's sockets to the controller: PUSH for events, DEALER(s) for requests. */
export class ControllerConnection {
  readonly #push: zmq.Push;
  readonly #requests: RequestChannel;
  readonly #heartbeats: RequestChannel | undefined;
  readonly #stats: WorkerStats;
  readonly #metrics: WorkerMetrics;
  #pushChain: Promise<boolean> = Promise.resolve(true);
  #closed = false;

  constructor(endpoints: ControllerEndpoints, o: { requestTimeoutMs: number; sendTimeoutMs: number }, stats: WorkerStats, metrics: WorkerMetrics) {
    this.#stats = stats;
    this.#metrics = metrics;
    this.#push = new zmq.Push({ linger: 0, sendTimeout: o.sendTimeoutMs, sendHighWaterMark: 10_000, reconnectInterval: 100, reconnectMaxInterval: 1000 });
    this.#push.connect(endpoints.pull);
    this.#requests = new RequestChannel(endpoints.router, o.requestTimeoutMs, () => stats.reconnects++);
    this.#heartbeats = endpoints.heartbeat ? new RequestChannel(endpoints.heartbeat, o.requestTimeoutMs, () => stats.reconnects++) : undefined;
  }

  /** Sends one event message; resolves false if it could not be queued (counted by the caller). */
  push(msg: ControllerMsg): Promise<boolean> {
    const payload = encodeMessage(msg);
    const run = this.#pushChain.then(async () => {
      if (this.#closed) return false;
      try {
        await this.#push.send(payload);
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
    this.#push.close();
    this.#requests.close();
    this.#heartbeats?.close();
  }
}
