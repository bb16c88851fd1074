import { ConfigError, checkAuthToken, ModelAttributes, refuseUnknownOptions, type PerModelAttributesOption, type TelemetryOptions } from '@tierkv/core';
import { DURABILITIES, type Durability } from '../protocol/messages.js';
import type { StorageManager } from '@tierkv/storage';

/** Something that renders the process's metrics for a scrape (`@tierkv/otel` provides one). */
export interface MetricsScrape {
  scrape(): Promise<{ contentType: string; body: string | Uint8Array }>;
}

export interface TierkvServerOptions extends TelemetryOptions {
  /** The StorageManager this server serves. Required. */
  storage: StorageManager;
  /** Close the StorageManager (flushing pending L2 stores) when the server shuts down. @default true */
  closeStorage?: boolean;
  /**
   * How requests travel: `zeromq` (a ROUTER socket, `tcp://` endpoints; CURVE with an authToken) or
   * `tcp` (plain TCP with length-prefixed frames, `tierkv+tcp://` endpoints: zero-copy retrieve
   * replies and batched small requests, faster on every figure in docs/benchmarks.md; no authToken).
   * TierkvClient picks the transport by the endpoint's scheme. @default 'zeromq'
   */
  transport?: ServerTransportName;
  /** Interface the request socket binds to. Loopback unless told otherwise. @default '127.0.0.1' */
  host?: string;
  /** Port of the request socket; 0 picks a free one (see `TierkvServer.endpoint`). @default 5555 */
  port?: number;
  /** Interface of the HTTP side (`/healthz`, `/status`, `/metrics`). @default the `host` */
  httpHost?: string;
  /** Port of the HTTP side; 0 picks a free one, `null` disables it. @default 8088 */
  httpPort?: number | null;
  /** Serves `/metrics` when set (404 otherwise). */
  metrics?: MetricsScrape;
  /** Requests served at once; more are refused with BUSY rather than queued. @default 256 */
  maxInFlight?: number;
  /** Requests one client may have in flight; more are refused with BUSY, so one client cannot starve the rest. @default 64 */
  maxInFlightPerClient?: number;
  /** Upper bound of a request's deadline; a client may ask for less. @default 30_000 */
  requestTimeoutMs?: number;
  /**
   * Largest request (all frames) the server accepts; larger ones are refused with TOO_LARGE. A
   * retrieve also answers at most this many bytes of chunks (a shorter prefix; ask again for the rest).
   * @default 256 MiB
   */
  maxPayloadBytes?: number;
  /** Most keys one request may name. @default 4096 */
  maxKeysPerRequest?: number;
  /** Tokens per chunk when a request gives token ids instead of keys. @default 256 */
  chunkSize?: number;
  /** Seed of the server-side TokenHasher (must match the clients' when they hash too). @default '' */
  hashSeed?: string;
  /** A prefetch's locks are released when its client has not touched it for this long. @default 60_000 */
  lockLeaseMs?: number;
  /** A client unseen for this long is forgotten (and its locks released). @default 120_000 */
  clientIdleMs?: number;
  /** How often leases and idle clients are checked. @default 1_000 */
  sweepIntervalMs?: number;
  /**
   * Replies libzmq queues per client (ZeroMQ send high-water mark; it counts messages, not bytes, so
   * libzmq holds up to (this + 1) × the largest reply per client). Further replies wait in the
   * server's byte-counted reply queue. Small enough to bound that, large enough that replies to a
   * client pipelining small requests rarely wait (4 cost such a client three quarters of its rate).
   * @default 16
   */
  sendHighWaterMark?: number;
  /**
   * What a store's acknowledgement means when the request does not say (a request's `durability`
   * wins): `memory`, in L1 (L2 follows in the background; a crash may lose it); `l2`, the reply waits
   * until every L2 tier stored the chunks (needs an L2 tier). @default 'memory'
   */
  durability?: Durability;
  /**
   * Reply bytes that may wait in the server for one client that is not reading; past it the client
   * is shed (its waiting replies thrown away, its session and locks dropped). At least `maxPayloadBytes`.
   * @default 2 × maxPayloadBytes
   */
  maxReplyBytesPerClient?: number;
  /**
   * Reply bytes that may wait in the server for all clients together; past it the client holding
   * the most is shed. At least `maxReplyBytesPerClient`. @default 4 × maxPayloadBytes
   */
  maxReplyBytes?: number;
  /** How long `shutdown()` lets in-flight requests finish before failing them. @default 10_000 */
  shutdownTimeoutMs?: number;
  /**
   * A shared secret every client must present: the request socket then speaks CURVE with a key pair
   * derived from it, so a peer without the token cannot complete the handshake and nothing it sends
   * reaches the server (see docs/security.md). Clients pass the same `authToken`. @default none
   */
  authToken?: string;
  /** Clock for leases and idle expiry, in ms (tests inject one). @default performance.now */
  now?: () => number;
  /**
   * Opt-in: `tierkv.server.request.duration` also carries the model name (`gen_ai.request.model`)
   * and cache salt (`tierkv.cache.salt`, the tenant) of each request's chunks, for at most `limit`
   * distinct pairs (default 50; later pairs are reported as `_OTHER`). Off by default: every model
   * and tenant multiplies the series. See docs/observability.md#per-model-and-per-tenant-attributes.
   * @default false
   */
  perModelAttributes?: PerModelAttributesOption;
}

export const SERVER_TRANSPORTS = ['zeromq', 'tcp'] as const;
export type ServerTransportName = (typeof SERVER_TRANSPORTS)[number];

export type ResolvedTierkvServerOptions = Required<Omit<TierkvServerOptions, 'metrics' | 'meterProvider' | 'tracerProvider' | 'authToken' | 'perModelAttributes'>> &
  Pick<TierkvServerOptions, 'metrics' | 'meterProvider' | 'tracerProvider' | 'authToken' | 'perModelAttributes'>;

export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  closeStorage: true,
  transport: 'zeromq' as ServerTransportName,
  host: '127.0.0.1',
  port: 5555,
  httpPort: 8088,
  maxInFlight: 256,
  maxInFlightPerClient: 64,
  requestTimeoutMs: 30_000,
  maxPayloadBytes: 256 * 1024 * 1024,
  maxKeysPerRequest: 4096,
  chunkSize: 256,
  hashSeed: '',
  lockLeaseMs: 60_000,
  // Both below L1's default read-lock TTL (300 s) with room for a sweep: a lease ends before L1
  // could take the lock away under a client still reading.
  clientIdleMs: 120_000,
  sweepIntervalMs: 1_000,
  sendHighWaterMark: 16,
  shutdownTimeoutMs: 10_000,
  durability: 'memory' as Durability,
});

/** Fills defaults and checks every field; throws ConfigError naming the field. */
export function resolveServerOptions(options: TierkvServerOptions): ResolvedTierkvServerOptions {
  if (!options || typeof options !== 'object' || !options.storage) {
    throw new ConfigError('server.storage', 'a StorageManager is required (new StorageManager({ l1: { capacityBytes } }))');
  }
  const d = DEFAULT_SERVER_OPTIONS;
  const r: ResolvedTierkvServerOptions = {
    storage: options.storage,
    closeStorage: options.closeStorage ?? d.closeStorage,
    transport: options.transport ?? d.transport,
    host: options.host ?? d.host,
    port: options.port ?? d.port,
    httpHost: options.httpHost ?? options.host ?? d.host,
    httpPort: options.httpPort === undefined ? d.httpPort : options.httpPort,
    maxInFlight: options.maxInFlight ?? d.maxInFlight,
    maxInFlightPerClient: options.maxInFlightPerClient ?? d.maxInFlightPerClient,
    requestTimeoutMs: options.requestTimeoutMs ?? d.requestTimeoutMs,
    maxPayloadBytes: options.maxPayloadBytes ?? d.maxPayloadBytes,
    maxKeysPerRequest: options.maxKeysPerRequest ?? d.maxKeysPerRequest,
    chunkSize: options.chunkSize ?? d.chunkSize,
    hashSeed: options.hashSeed ?? d.hashSeed,
    lockLeaseMs: options.lockLeaseMs ?? d.lockLeaseMs,
    clientIdleMs: options.clientIdleMs ?? d.clientIdleMs,
    sweepIntervalMs: options.sweepIntervalMs ?? d.sweepIntervalMs,
    sendHighWaterMark: options.sendHighWaterMark ?? d.sendHighWaterMark,
    maxReplyBytesPerClient: options.maxReplyBytesPerClient ?? 2 * (options.maxPayloadBytes ?? d.maxPayloadBytes),
    maxReplyBytes: options.maxReplyBytes ?? 4 * (options.maxPayloadBytes ?? d.maxPayloadBytes),
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    durability: options.durability ?? d.durability,
    now: options.now ?? (() => performance.now()),
    metrics: options.metrics,
    meterProvider: options.meterProvider,
    tracerProvider: options.tracerProvider,
    authToken: checkAuthToken(options.authToken, 'server.authToken'),
    perModelAttributes: options.perModelAttributes,
  };
  // Every option the resolved object has is known, so a new option needs no second list.
  refuseUnknownOptions(options, Object.keys(r), 'server');
  port('server.port', r.port);
  if (r.httpPort !== null) port('server.httpPort', r.httpPort);
  for (const field of ['maxInFlight', 'maxInFlightPerClient', 'requestTimeoutMs', 'maxPayloadBytes', 'maxKeysPerRequest', 'chunkSize', 'lockLeaseMs', 'clientIdleMs', 'sweepIntervalMs', 'sendHighWaterMark', 'maxReplyBytesPerClient', 'maxReplyBytes'] as const) {
    const v = r[field];
    if (!Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`server.${field}`, `expected a positive integer, got ${String(v)}`);
  }
  if (!Number.isSafeInteger(r.shutdownTimeoutMs) || r.shutdownTimeoutMs < 0) {
    throw new ConfigError('server.shutdownTimeoutMs', `expected an integer ≥ 0, got ${String(r.shutdownTimeoutMs)}`);
  }
  checkDurability(r);
  ModelAttributes.fromOption(r.perModelAttributes, 'server.perModelAttributes'); // refuses a malformed one before anything starts
  checkTransport(r);
  if (r.maxInFlightPerClient > r.maxInFlight) r.maxInFlightPerClient = r.maxInFlight;
  // A retrieve reply carries up to maxPayloadBytes of chunks: a smaller budget would shed any client
  // whose single reply had to wait.
  if (r.maxReplyBytesPerClient < r.maxPayloadBytes) {
    throw new ConfigError('server.maxReplyBytesPerClient', `${r.maxReplyBytesPerClient} is below maxPayloadBytes (${r.maxPayloadBytes}), the size of one full reply; raise it or lower maxPayloadBytes`);
  }
  if (r.maxReplyBytes < r.maxReplyBytesPerClient) {
    throw new ConfigError('server.maxReplyBytes', `${r.maxReplyBytes} is below maxReplyBytesPerClient (${r.maxReplyBytesPerClient}); the total budget must hold one client's`);
  }
  checkLeasesInsideLockTtl(r);
  if (typeof r.host !== 'string' || r.host.length === 0) throw new ConfigError('server.host', 'expected an interface address such as 127.0.0.1');
  if (typeof r.now !== 'function') throw new ConfigError('server.now', 'expected a function returning milliseconds');
  return r;
}

function checkDurability(r: ResolvedTierkvServerOptions): void {
  if (!DURABILITIES.includes(r.durability)) {
    throw new ConfigError('server.durability', `expected ${DURABILITIES.map((d) => `'${d}'`).join(' or ')}, got ${JSON.stringify(r.durability)}`);
  }
  const tiers = (r.storage as { options?: { l2?: readonly unknown[] } }).options?.l2?.length;
  // A storage without L2 could only acknowledge 'l2' falsely.
  if (r.durability === 'l2' && tiers === 0) {
    throw new ConfigError('server.durability', "'l2' waits for the write-through to L2, but the storage has no L2 tier; give the StorageManager an L2 adapter (l2: [...]) or use 'memory'");
  }
}

function checkTransport(r: ResolvedTierkvServerOptions): void {
  if (!SERVER_TRANSPORTS.includes(r.transport)) {
    throw new ConfigError('server.transport', `expected ${SERVER_TRANSPORTS.map((t) => `'${t}'`).join(' or ')}, got ${JSON.stringify(r.transport)}`);
  }
  // Plain TCP has no handshake that could prove the token without also encrypting: rather than a
  // token sent in clear (worth nothing against a listener), the combination is refused.
  if (r.transport === 'tcp' && r.authToken !== undefined) {
    throw new ConfigError('server.authToken', "the 'tcp' transport has no authentication or encryption; use transport 'zeromq' (CURVE) with an authToken, or keep a 'tcp' server on loopback or a private network (docs/security.md)");
  }
}

function port(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(field, `expected a port in [0, 65535] (0 picks a free one), got ${String(value)}`);
  }
}

/**
 * The server's leases must end (swept within `sweepIntervalMs`) before L1's read-lock TTL could
 * end the locks under them: otherwise a client could read an object L1 already gave away.
 */
function checkLeasesInsideLockTtl(r: ResolvedTierkvServerOptions): void {
  let ttl: unknown;
  try {
    ttl = (r.storage as { l1?: { options?: { readLockTtlMs?: unknown } } }).l1?.options?.readLockTtlMs;
  } catch {
    return; // a storage without an L1 to ask (a stand-in): nothing to check against
  }
  if (typeof ttl !== 'number') return;
  for (const field of ['lockLeaseMs', 'clientIdleMs'] as const) {
    if (r[field] + r.sweepIntervalMs >= ttl) {
      throw new ConfigError(
        `server.${field}`,
        `${r[field]} ms (+ sweepIntervalMs ${r.sweepIntervalMs} ms) must be below the storage's L1 read-lock TTL (l1.readLockTtlMs = ${ttl} ms), so a lease ends before L1 can take its locks away; lower ${field} or raise l1.readLockTtlMs`,
      );
    }
  }
}
