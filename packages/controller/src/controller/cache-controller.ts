import { randomBytes } from 'node:crypto';
import * as zmq from 'zeromq';
import { ClosedError, debugLogger, TracerBinding } from '@tierkv/core';
import { decodeMessage, encodeMessage, type DecodeResult } from '../protocol/codec.js';
import type { ControllerMsg, ErrorReply, LookupHolder, ReplyMsg, WireScope, WorkerInfo } from '../protocol/messages.js';
import { parseRouterFrames } from '../protocol/router-frames.js';
import { isTimeout, tcpEndpoint } from '../protocol/sockets.js';
import { HeartbeatReaper } from '../workers/heartbeat-reaper.js';
import { ControllerMetrics } from './controller-metrics.js';
import { resolveControllerOptions, type CacheControllerOptions, type ResolvedCacheControllerOptions } from './controller-options.js';
import { ControllerService } from './controller-service.js';
import type { ControllerStats, SocketName } from './controller-stats.js';
import { HttpApi } from './http-api.js';
import { QueryListener } from './query-listener.js';
import type { LookupInput } from './lookup-query.js';
import { controllerSocketOptions, countConnectionLosses } from './socket-options.js';
import { VllmIngest } from '../vllm/vllm-ingest.js';
import { VllmMetrics } from '../vllm/vllm-metrics.js';

const log = debugLogger('tierkv:controller');

/** What the query listener answers: a client's questions, not a worker's requests. */
const QUERY_TYPES: ReadonlySet<ControllerMsg['t']> = new Set(['lookup', 'score', 'query_workers']);

export interface ControllerAddresses {
  /** Where workers PUSH events. */
  readonly pull: string;
  /** Where workers and clients send requests (DEALER/REQ). */
  readonly router: string;
  /** The separate heartbeat ROUTER, when configured. */
  readonly heartbeat?: string;
  /** The plain-TCP query listener (`tierkv+tcp://`), when `queryPort` is set. */
  readonly query?: string;
  /** Base URL of the HTTP API, when enabled. */
  readonly http?: string;
}

/**
 * The cache controller: binds a PULL socket (worker events), a ROUTER (requests) and optionally a
 * heartbeat ROUTER, keeps the KV pool, reaps silent workers, and serves the HTTP API. A bad frame
 * is counted and dropped; the receive loops never stop until close().
 */
export class CacheController {
  readonly options: ResolvedCacheControllerOptions;
  readonly #service: ControllerService;
  readonly #metrics: ControllerMetrics;
  readonly #reaper: HeartbeatReaper;
  readonly #vllm: VllmIngest;
  readonly #vllmMetrics: VllmMetrics;
  #pull: zmq.Pull | undefined;
  #router: zmq.Router | undefined;
  #heartbeat: zmq.Router | undefined;
  #query: QueryListener | undefined;
  #http: HttpApi | undefined;
  readonly #tracing: TracerBinding;
  #addresses: ControllerAddresses | undefined;
  #loops: Promise<void>[] = [];
  #state: 'new' | 'starting' | 'running' | 'closed' = 'new';

  constructor(options: CacheControllerOptions = {}) {
    this.options = resolveControllerOptions(options);
    const o = this.options;
    this.#tracing = new TracerBinding({ name: '@tierkv/controller', version: '0.1.0' }, { tracerProvider: options.tracerProvider });
    this.#service = new ControllerService({
      tracing: this.#tracing,
      workerTimeoutMs: o.workerTimeoutMs,
      syncTimeoutMs: o.syncTimeoutMs,
      gapGraceMs: o.gapGraceMs,
      chunkSize: o.chunkSize,
      hashSeed: o.hashSeed,
      now: o.now,
      epoch: randomBytes(8).toString('hex'),
      onLookup: (s) => this.#metrics.lookup(s),
      score: (msg) => this.#vllm.scoreReply(msg),
      warn: (line) => (o.warn ? o.warn(line) : log('%s', line)),
    });
    this.#metrics = new ControllerMetrics(this.#service, (s) => this.#pending(s), { meterProvider: options.meterProvider });
    this.#reaper = new HeartbeatReaper(o.reapIntervalMs, () => this.#service.sweep());
    this.#vllm = new VllmIngest(this.#service.pool, { replayTimeoutMs: o.vllmReplayTimeoutMs, onScore: (s) => this.#vllmMetrics.score(s) });
    this.#vllmMetrics = new VllmMetrics(this.#vllm, { meterProvider: options.meterProvider });
  }

  /** Binds the sockets and the HTTP API; resolves once everything listens. */
  async start(): Promise<ControllerAddresses> {
    if (this.#state === 'closed') throw new ClosedError('CacheController', 'start');
    if (this.#state !== 'new') throw new Error('CacheController.start() was already called');
    this.#state = 'starting';
    const o = this.options;
    try {
      const pull = (this.#pull = new zmq.Pull(controllerSocketOptions(o, 'pull')));
      countConnectionLosses(pull, 'pull', this.#service.stats);
      await bindWithRetry(pull, tcpEndpoint(o.host, o.pullPort));
      const router = (this.#router = new zmq.Router(controllerSocketOptions(o, 'router')));
      countConnectionLosses(router, 'router', this.#service.stats);
      await bindWithRetry(router, tcpEndpoint(o.host, o.routerPort));
      let heartbeat: string | undefined;
      if (o.heartbeatPort !== undefined) {
        this.#heartbeat = new zmq.Router(controllerSocketOptions(o, 'heartbeat'));
        countConnectionLosses(this.#heartbeat, 'heartbeat', this.#service.stats);
        await bindWithRetry(this.#heartbeat, tcpEndpoint(o.host, o.heartbeatPort));
        heartbeat = this.#heartbeat.lastEndpoint ?? undefined;
      }
      let query: string | undefined;
      if (o.queryPort !== undefined) {
        this.#query = this.#queryListener();
        query = await this.#query.listen(o.host, o.queryPort);
      }
      let http: string | undefined;
      if (o.httpPort !== false) {
        this.#http = new HttpApi(this.#service, { host: o.httpHost, port: o.httpPort, authToken: o.authToken, metrics: o.metrics, vllm: this.#vllm, tracing: this.#tracing });
        http = await this.#http.listen();
      }
      this.#service.pullEndpoint = pull.lastEndpoint ?? undefined;
      for (const p of o.vllmPublishers) this.#vllm.add(p);
      this.#addresses = { pull: pull.lastEndpoint!, router: router.lastEndpoint!, ...(heartbeat ? { heartbeat } : {}), ...(query ? { query } : {}), ...(http ? { http } : {}) };
    } catch (err) {
      await this.close();
      throw err;
    }
    this.#loops.push(this.#pullLoop(this.#pull), this.#routerLoop(this.#router, 'router'));
    if (this.#heartbeat) this.#loops.push(this.#routerLoop(this.#heartbeat, 'heartbeat'));
    this.#reaper.start();
    this.#state = 'running';
    log('controller listening: %o', this.#addresses);
    return this.#addresses;
  }

  /** Endpoints after start(). */
  get addresses(): ControllerAddresses {
    if (!this.#addresses) throw new Error('CacheController.addresses is available after start() resolves');
    return this.#addresses;
  }

  get epoch(): string {
    return this.#service.epoch;
  }

  /** Hot-path counters (messages, drops, gaps, syncs); for tests and status pages. */
  get stats(): ControllerStats {
    return this.#service.stats;
  }

  /** Chunk entries in the KV pool, and the bytes of its hash sets. */
  poolUsage(): { keys: number; bytes: number; workers: number } {
    return { keys: this.#service.pool.size, bytes: this.#service.pool.byteSize, workers: this.#service.registry.size };
  }

  /** Every worker's chunk hashes per location (hex), for tests and debugging; O(keys). */
  dumpKeys(): Map<string, Map<string, Set<string>>> {
    const out = new Map<string, Map<string, Set<string>>>();
    for (const w of this.#service.pool.workers()) {
      const byLoc = new Map<string, Set<string>>();
      for (const [loc, byScope] of w.locations()) {
        const set = new Set<string>();
        for (const [scopeId, chunks] of byScope) {
          chunks.forEach((hi, lo) => set.add(`${scopeId}:${hex8(hi)}${hex8(lo)}`));
        }
        byLoc.set(loc, set);
      }
      out.set(`${w.instanceId}/${w.workerId}`, byLoc);
    }
    return out;
  }

  /**
   * Prefix lookup by chunk hashes or tokens, longest holder first. Hashes are 16-hex-char strings,
   * or binary: a `Uint8Array` of 8 big-endian bytes per hash (no hex decode), or a `BigUint64Array`.
   */
  lookup(input: LookupInput, scope: Partial<WireScope> & { modelName: string }): LookupHolder[] {
    const s: WireScope = { modelName: scope.modelName, kvRank: scope.kvRank ?? 0, cacheSalt: scope.cacheSalt ?? '' };
    return this.#service.lookups.run(s, input);
  }

  /** The vLLM publishers followed (add/remove at runtime, score requests). */
  get vllm(): VllmIngest {
    return this.#vllm;
  }

  workers(): WorkerInfo[] {
    return this.#service.workers();
  }

  /** Runs the reaper's sweep now (tests drive it with an injected clock). */
  sweep(): void {
    this.#service.sweep();
  }

  requestFullSync(instanceId: string, workerId: number): boolean {
    return this.#service.requestFullSync(instanceId, workerId);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#reaper.stop();
    for (const s of [this.#pull, this.#router, this.#heartbeat]) s?.close();
    await Promise.allSettled([...this.#loops, this.#query?.close()]);
    await this.#vllm.close();
    await this.#http?.close();
    this.#metrics.close();
    this.#vllmMetrics.close();
  }

  #pending(socket: SocketName): boolean | undefined {
    if (socket === 'query') return undefined; // a TCP listener queues nothing of its own
    const s = socket === 'pull' ? this.#pull : socket === 'router' ? this.#router : this.#heartbeat;
    if (!s || s.closed) return undefined;
    try {
      return s.readable;
    } catch {
      return undefined;
    }
  }

  #pullLoop(sock: zmq.Pull): Promise<void> {
    return this.#receiveLoop(sock, 'pull', (frames) => {
      if (frames.length !== 1) {
        this.#service.stats.drop('pull', 'malformed');
        return;
      }
      const d = this.#decode('pull', frames[0]!);
      if (d.ok) this.#handle('pull', d.msg, () => this.#service.handleEvent(d.msg, 'pull'));
    });
  }

  #routerLoop(sock: zmq.Router, socket: SocketName): Promise<void> {
    return this.#receiveLoop(sock, socket, async (frames) => {
      const parsed = parseRouterFrames(frames);
      if (!parsed) {
        this.#service.stats.drop(socket, 'malformed');
        return;
      }
      const reply = this.#answer(socket, parsed.payload);
      try {
        await sock.send([parsed.identity, ...parsed.envelope, reply]);
      } catch (err) {
        if (sock.closed) return;
        log('%s: reply not sent: %s', socket, (err as Error).message);
      }
    });
  }

  /**
   * The encoded reply to one request payload. A dropped request is answered anyway, so a confused
   * peer fails fast instead of waiting for its timeout. The query listener takes client queries only.
   */
  #answer(socket: SocketName, payload: Buffer): Buffer {
    const d = this.#decode(socket, payload);
    let reply: ReplyMsg;
    if (!d.ok) reply = { t: 'error', code: 'ERR_PROTOCOL', message: `dropped: ${d.detail}` } satisfies ErrorReply;
    else if (socket === 'query' && !QUERY_TYPES.has(d.msg.t)) {
      this.#service.stats.drop(socket, 'wrong_socket');
      reply = { t: 'error', code: 'ERR_PROTOCOL', message: `${d.msg.t} is not a query; workers send it to the ROUTER socket` } satisfies ErrorReply;
    } else {
      const msg = d.msg;
      reply = this.#handle(socket, msg, () => this.#service.handleRequest(msg, socket)) ?? ({ t: 'error', code: 'ERR_INTERNAL', message: `controller failed to handle ${msg.t}` } satisfies ErrorReply);
    }
    return encodeMessage(reply);
  }

  #queryListener(): QueryListener {
    const stats = this.#service.stats;
    const o = this.options;
    return new QueryListener(
      // Replies waiting for a client that does not read: as much as one request may carry.
      { maxMessageBytes: o.maxMessageBytes, maxReplyBacklogBytes: o.maxMessageBytes },
      {
        answer: (payload) => {
          stats.received.query++;
          return this.#answer('query', payload);
        },
        malformed: () => stats.drop('query', 'malformed'),
        closed: (reason) => stats.connectionsClosed.query[reason]++,
      },
    );
  }

  /** Receives until the socket closes, counting every message; a failed receive is logged and skipped. */
  async #receiveLoop(sock: zmq.Pull | zmq.Router, socket: SocketName, onFrames: (frames: Buffer[]) => void | Promise<void>): Promise<void> {
    while (!sock.closed) {
      let frames: Buffer[];
      try {
        frames = await sock.receive();
      } catch (err) {
        if (sock.closed) return;
        if (isTimeout(err)) continue;
        log('%s receive failed: %s', socket, (err as Error).message);
        continue;
      }
      this.#service.stats.received[socket]++;
      try {
        await onFrames(frames);
      } catch (err) {
        // Handlers catch their own errors; this guards the loop itself, which must never end early.
        this.#service.stats.drop(socket, 'handler_error');
        log('%s: message handling failed: %s', socket, (err as Error).stack);
      }
    }
  }

  /** Decodes one message; one that does not decode or validate is counted as dropped, with its reason. */
  #decode(socket: SocketName, frame: Uint8Array): DecodeResult<ControllerMsg> {
    const d = decodeMessage(frame);
    if (!d.ok) {
      this.#service.stats.drop(socket, d.reason);
      if (log.enabled) log('%s: dropped frame (%s): %s', socket, d.reason, d.detail);
    }
    return d;
  }

  /**
   * Runs the handler of one message, counted as active and timed per message type. A handler that
   * throws is counted as a `handler_error` drop and yields undefined; the loop keeps serving.
   */
  #handle<T>(socket: SocketName, msg: ControllerMsg, run: () => T): T | undefined {
    const stats = this.#service.stats;
    stats.active[socket]++;
    const start = performance.now();
    try {
      return run();
    } catch (err) {
      stats.drop(socket, 'handler_error');
      log('%s: handler failed for %s: %s', socket, msg.t, (err as Error).stack);
      return undefined;
    } finally {
      stats.active[socket]--;
      this.#metrics.message(socket, msg.t, (performance.now() - start) / 1000);
    }
  }
}

/**
 * ZeroMQ releases a closed socket's port asynchronously, so a controller restarted on the same port
 * (by a supervisor, or a test) can briefly see EADDRINUSE: retry for up to 2 s before failing.
 */
async function bindWithRetry(sock: zmq.Socket & { bind(address: string): Promise<void> }, endpoint: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    try {
      return await sock.bind(endpoint);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
