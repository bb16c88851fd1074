import { ConfigError, DEFAULT_CHUNK_SIZE, refuseUnknownOptions, type TelemetryOptions } from '@tierkv/core';
import { MAX_MESSAGE_BYTES } from '../protocol/validation.js';
import { MAX_VLLM_PUBLISHERS, resolveVllmPublisher, type ResolvedVllmPublisher, type VllmPublisherConfig } from '../vllm/vllm-publisher-config.js';

/** Renders the metrics for `GET /metrics` (e.g. @tierkv/otel's Prometheus registry). */
export interface MetricsScrape {
  scrape(): Promise<{ contentType: string; body: string | Uint8Array }>;
}

export interface CacheControllerOptions extends TelemetryOptions {
  /** Interface the ZeroMQ sockets bind to. @default '127.0.0.1' */
  host?: string;
  /** PULL socket for worker events (`kv_batch`, `sync_batch`); 0 picks a free port. @default 9300 */
  pullPort?: number;
  /** ROUTER socket for requests (register, heartbeat, sync, lookup, queries); 0 picks a free port. @default 9301 */
  routerPort?: number;
  /** Optional separate ROUTER for heartbeats, so a busy request socket cannot starve them. @default undefined (off) */
  heartbeatPort?: number;
  /**
   * Plain-TCP query listener (`tierkv+tcp://host:port`, no ZeroMQ) for clients' `lookup`, `score`
   * and `query_workers`: the fastest round trip (docs/controller.md#transport). No CURVE, so it
   * is refused together with `authToken`. 0 picks a free port. @default undefined (off)
   */
  queryPort?: number;
  /** HTTP API port; `false` turns the API off; 0 picks a free port. @default 9302 */
  httpPort?: number | false;
  /** HTTP API interface. @default same as `host` */
  httpHost?: string;
  /** When set, every HTTP route except `/health` needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Serves `GET /metrics`; without it the route answers 404 with a hint. */
  metrics?: MetricsScrape;
  /** A worker silent for this long is deregistered and its keys dropped. @default 30_000 */
  workerTimeoutMs?: number;
  /** How often the reaper checks heartbeats and sync deadlines. @default 1_000 */
  reapIntervalMs?: number;
  /**
   * A full sync that receives no batch for this long (its batches are not reaching the PULL socket)
   * fails, and the worker's next heartbeat asks it to sync again. @default 15_000
   */
  syncTimeoutMs?: number;
  /**
   * A worker's heartbeat reports how many events it has sent; once that report is this old, every
   * one of them must have arrived or the tail was lost (a gap). @default 2_000
   */
  gapGraceMs?: number;
  /** Tokens per chunk for lookups given as tokens (must match the workers' TokenHasher). @default 256 */
  chunkSize?: number;
  /** TokenHasher seed for lookups given as tokens. @default '' */
  hashSeed?: string;
  /** Deadline for sending one reply. @default 1_000 */
  sendTimeoutMs?: number;
  /**
   * Largest frame any controller socket accepts (ZMQ_MAXMSGSIZE; on the query listener, the largest
   * request, and the most unread reply bytes a client may leave waiting); a peer that announces a
   * bigger one is disconnected (counted in `tierkv.controller.connections.closed`). A stalled peer
   * pins at most this much per connection. @default MAX_MESSAGE_BYTES, the largest message validation accepts (≈ 36 MiB)
   */
  maxMessageBytes?: number;
  /** Complete event messages the PULL socket queues before workers' PUSH sockets wait. @default 100_000 */
  pullHighWaterMark?: number;
  /**
   * vLLM engines whose KV events (ZeroMQ PUB) the controller follows, as pool workers `vllm:<name>`;
   * more can be added at runtime through `POST /vllm/publishers`. See docs/vllm.md. @default []
   */
  vllmPublishers?: readonly VllmPublisherConfig[];
  /** Deadline for each frame of a vLLM replay; past it the gap is unrecoverable and the view cleared. @default 2_000 */
  vllmReplayTimeoutMs?: number;
  /** Clock in ms (tests inject one). @default Date.now */
  now?: () => number;
  /** Where warnings an operator should see go (a full sync that stalled). @default the `tierkv:controller` debug log only */
  warn?: (line: string) => void;
}

export interface ResolvedCacheControllerOptions {
  readonly host: string;
  readonly pullPort: number;
  readonly routerPort: number;
  readonly heartbeatPort: number | undefined;
  readonly queryPort: number | undefined;
  readonly httpPort: number | false;
  readonly httpHost: string;
  readonly authToken: string | undefined;
  readonly metrics: MetricsScrape | undefined;
  readonly workerTimeoutMs: number;
  readonly reapIntervalMs: number;
  readonly syncTimeoutMs: number;
  readonly gapGraceMs: number;
  readonly chunkSize: number;
  readonly hashSeed: string;
  readonly sendTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly pullHighWaterMark: number;
  readonly vllmPublishers: readonly ResolvedVllmPublisher[];
  readonly vllmReplayTimeoutMs: number;
  readonly now: () => number;
  readonly warn: ((line: string) => void) | undefined;
}

export const DEFAULT_CONTROLLER_OPTIONS = Object.freeze({
  host: '127.0.0.1',
  pullPort: 9300,
  routerPort: 9301,
  httpPort: 9302,
  workerTimeoutMs: 30_000,
  reapIntervalMs: 1_000,
  syncTimeoutMs: 15_000,
  gapGraceMs: 2_000,
  chunkSize: DEFAULT_CHUNK_SIZE,
  hashSeed: '',
  sendTimeoutMs: 1_000,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  pullHighWaterMark: 100_000,
  vllmReplayTimeoutMs: 2_000,
});

function port(field: string, v: number | undefined, dflt: number): number {
  const p = v ?? dflt;
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new ConfigError(field, `expected a port number in [0, 65535], got ${p}`);
  return p;
}

function positive(field: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new ConfigError(field, `expected a positive number, got ${n}`);
  return n;
}

function positiveInteger(field: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(field, `expected a positive integer, got ${String(n)}`);
  return n;
}

function vllmPublishers(list: readonly VllmPublisherConfig[] | undefined): ResolvedVllmPublisher[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > MAX_VLLM_PUBLISHERS) throw new ConfigError('controller.vllmPublishers', `expected an array of at most ${MAX_VLLM_PUBLISHERS} publishers`);
  const out = list.map((c, i) => resolveVllmPublisher(c, `controller.vllmPublishers[${i}]`));
  const dup = out.find((c, i) => out.findIndex((x) => x.name === c.name) !== i);
  if (dup) throw new ConfigError('controller.vllmPublishers', `publisher name ${JSON.stringify(dup.name)} is used twice`);
  return out;
}

export function resolveControllerOptions(o: CacheControllerOptions = {}): ResolvedCacheControllerOptions {
  const d = DEFAULT_CONTROLLER_OPTIONS;
  if (o !== null && typeof o === 'object') {
    refuseUnknownOptions(o, ['host', 'pullPort', 'routerPort', 'heartbeatPort', 'queryPort', 'httpPort', 'httpHost', 'authToken', 'metrics', 'workerTimeoutMs', 'reapIntervalMs', 'syncTimeoutMs', 'gapGraceMs', 'chunkSize', 'hashSeed', 'sendTimeoutMs', 'maxMessageBytes', 'pullHighWaterMark', 'vllmPublishers', 'vllmReplayTimeoutMs', 'now', 'warn', 'meterProvider', 'tracerProvider'], 'controller');
  }
  const host = o.host ?? d.host;
  const httpPort = o.httpPort === false ? false : port('controller.httpPort', o.httpPort, d.httpPort);
  if (o.authToken !== undefined && (typeof o.authToken !== 'string' || o.authToken.length === 0)) {
    throw new ConfigError('controller.authToken', 'expected a non-empty string (or leave it unset to disable auth)');
  }
  if (o.authToken !== undefined && o.queryPort !== undefined) {
    throw new ConfigError('controller.queryPort', 'the plain-TCP query listener has no authentication or encryption, so it cannot be used with an authToken; leave queryPort unset (clients then use the ROUTER, which speaks CURVE)');
  }
  return {
    host,
    pullPort: port('controller.pullPort', o.pullPort, d.pullPort),
    routerPort: port('controller.routerPort', o.routerPort, d.routerPort),
    heartbeatPort: o.heartbeatPort === undefined ? undefined : port('controller.heartbeatPort', o.heartbeatPort, 0),
    queryPort: o.queryPort === undefined ? undefined : port('controller.queryPort', o.queryPort, 0),
    httpPort,
    httpHost: o.httpHost ?? host,
    authToken: o.authToken,
    metrics: o.metrics,
    workerTimeoutMs: positive('controller.workerTimeoutMs', o.workerTimeoutMs, d.workerTimeoutMs),
    reapIntervalMs: positive('controller.reapIntervalMs', o.reapIntervalMs, d.reapIntervalMs),
    syncTimeoutMs: positive('controller.syncTimeoutMs', o.syncTimeoutMs, d.syncTimeoutMs),
    gapGraceMs: positive('controller.gapGraceMs', o.gapGraceMs, d.gapGraceMs),
    chunkSize: positive('controller.chunkSize', o.chunkSize, d.chunkSize),
    hashSeed: o.hashSeed ?? d.hashSeed,
    sendTimeoutMs: positive('controller.sendTimeoutMs', o.sendTimeoutMs, d.sendTimeoutMs),
    maxMessageBytes: positiveInteger('controller.maxMessageBytes', o.maxMessageBytes, d.maxMessageBytes),
    pullHighWaterMark: positiveInteger('controller.pullHighWaterMark', o.pullHighWaterMark, d.pullHighWaterMark),
    vllmPublishers: vllmPublishers(o.vllmPublishers),
    vllmReplayTimeoutMs: positive('controller.vllmReplayTimeoutMs', o.vllmReplayTimeoutMs, d.vllmReplayTimeoutMs),
    now: o.now ?? Date.now,
    warn: o.warn,
  };
}

const ENV = {
  host: 'TIERKV_CONTROLLER_HOST',
  pullPort: 'TIERKV_CONTROLLER_PULL_PORT',
  routerPort: 'TIERKV_CONTROLLER_ROUTER_PORT',
  heartbeatPort: 'TIERKV_CONTROLLER_HEARTBEAT_PORT',
  queryPort: 'TIERKV_CONTROLLER_QUERY_PORT',
  httpPort: 'TIERKV_CONTROLLER_HTTP_PORT',
  httpHost: 'TIERKV_CONTROLLER_HTTP_HOST',
  authToken: 'TIERKV_CONTROLLER_AUTH_TOKEN',
  workerTimeoutMs: 'TIERKV_CONTROLLER_WORKER_TIMEOUT_MS',
  syncTimeoutMs: 'TIERKV_CONTROLLER_SYNC_TIMEOUT_MS',
  chunkSize: 'TIERKV_CHUNK_SIZE',
  hashSeed: 'TIERKV_HASH_SEED',
} as const;

/**
 * Controller options from `TIERKV_CONTROLLER_*` variables (`TIERKV_CHUNK_SIZE`, `TIERKV_HASH_SEED`
 * for token lookups). `TIERKV_CONTROLLER_HTTP_PORT=off` disables the HTTP API. Unset variables are
 * left out so flags or defaults apply.
 */
export function controllerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): CacheControllerOptions {
  const out: CacheControllerOptions = {};
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  const str = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const set = <K extends keyof CacheControllerOptions>(k: K, v: CacheControllerOptions[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('host', str(ENV.host));
  set('pullPort', int(ENV.pullPort));
  set('routerPort', int(ENV.routerPort));
  set('heartbeatPort', int(ENV.heartbeatPort));
  set('queryPort', int(ENV.queryPort));
  set('httpPort', env[ENV.httpPort] === 'off' || env[ENV.httpPort] === 'false' ? false : int(ENV.httpPort));
  set('httpHost', str(ENV.httpHost));
  set('authToken', str(ENV.authToken));
  set('workerTimeoutMs', int(ENV.workerTimeoutMs));
  set('syncTimeoutMs', int(ENV.syncTimeoutMs));
  set('chunkSize', int(ENV.chunkSize));
  set('hashSeed', str(ENV.hashSeed));
  return out;
}
