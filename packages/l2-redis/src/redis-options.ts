import { ConfigError } from '@tierkv/core';
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { resolveCircuitBreakerOptions, type CircuitBreakerOptions, type ResolvedCircuitBreakerOptions } from './circuit-breaker.js';

/** The payload checksum values are written with (see RedisL2Options.checksum). */
export type RedisChecksum = 'xxh3' | 'crc32' | 'none';

export interface RedisL2Options {
  /**
   * Single node: a `redis://` / `rediss://` URL. Ignored when `cluster` or `client` is given.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * Extra ioredis options for the single-node client (TLS, password, `db` …). The adapter's
   * failure-handling settings (`commandTimeout`, `enableOfflineQueue`, `maxRetriesPerRequest`,
   * `retryStrategy`) come from the options below and win over these.
   */
  redis?: RedisOptions;
  /** Redis Cluster: seed nodes and extra ioredis Cluster options. Takes precedence over `url`. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /**
   * Bring your own ioredis client (Redis or Cluster). The adapter neither configures nor closes it;
   * give it `enableOfflineQueue: false` and a `commandTimeout`, or a down Redis queues commands.
   */
  client?: Redis | Cluster;
  /**
   * Prepended to every key, one per deployment sharing a Redis, e.g. `tierkv:prod:`. Must not
   * contain `{` or `}` (a hash tag would put every key in one cluster slot).
   * @default 'tierkv:'
   */
  keyPrefix?: string;
  /** Expire objects this many seconds after their last store or lookup; 0 keeps them until Redis evicts them. @default 0 */
  ttlSeconds?: number;
  /**
   * The payload checksum each value carries, verified on every load (bit rot and foreign writes
   * are misses). `xxh3`: XXH3-64, at memory speed with the native addon. `crc32`: zlib's CRC-32,
   * several times slower, for nothing but continuity. `none`: only the length and key checks
   * (truncation is still a miss). Values written any way (and by the previous version, CRC-32)
   * load any way: the header names its algorithm.
   * @default 'xxh3'
   */
  checksum?: RedisChecksum;
  /** Deadline for every Redis round trip (one pipeline), in ms. @default 2000 */
  operationTimeoutMs?: number;
  /** Deadline for establishing a connection, in ms. @default 2000 */
  connectTimeoutMs?: number;
  /** Upper bound of the reconnect backoff, in ms; ioredis keeps reconnecting forever. @default 2000 */
  reconnectMaxDelayMs?: number;
  /** Largest payload sent in one pipeline; bigger batches are split into several round trips. @default 64 MiB */
  maxPipelineBytes?: number;
  /** How long `close()` waits for in-flight operations before disconnecting. @default 1000 */
  closeTimeoutMs?: number;
  /**
   * Loads read each value's payload from a socket of the adapter's own straight into the caller's
   * memory (see the README's "Loads"), instead of through ioredis. Only the adapter's own
   * single-node client over TCP or a Unix socket can take this path; with `client`, `cluster`, TLS,
   * Sentinel or a custom Connector loads go through ioredis whatever this says. `false` sends every
   * load through ioredis.
   * @default true
   */
  directLoad?: boolean;
  /** Circuit breaker around every call. */
  breaker?: CircuitBreakerOptions;
  /** The `tierkv.l2.adapter` name of this adapter. @default 'redis' */
  name?: string;
  /** Clock for the circuit breaker (ms); tests inject one. @default performance.now */
  now?: () => number;
}

export interface ResolvedRedisL2Options {
  readonly url: string;
  readonly redis: RedisOptions;
  readonly cluster: { nodes: ClusterNode[]; options: ClusterOptions } | undefined;
  readonly client: Redis | Cluster | undefined;
  readonly keyPrefix: string;
  readonly ttlSeconds: number;
  readonly checksum: RedisChecksum;
  readonly operationTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly maxPipelineBytes: number;
  readonly closeTimeoutMs: number;
  readonly directLoad: boolean;
  readonly breaker: ResolvedCircuitBreakerOptions;
  readonly name: string;
  readonly now: () => number;
}

export const DEFAULT_REDIS_L2_OPTIONS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'tierkv:',
  ttlSeconds: 0,
  checksum: 'xxh3' as RedisChecksum,
  operationTimeoutMs: 2000,
  connectTimeoutMs: 2000,
  reconnectMaxDelayMs: 2000,
  maxPipelineBytes: 64 * 1024 * 1024,
  closeTimeoutMs: 1000,
  directLoad: true,
  name: 'redis',
});

function positive(field: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(`redis.${field}`, `expected a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return value;
}

export function resolveRedisL2Options(options: RedisL2Options = {}): ResolvedRedisL2Options {
  const d = DEFAULT_REDIS_L2_OPTIONS;
  const keyPrefix = options.keyPrefix ?? d.keyPrefix;
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    throw new ConfigError('redis.keyPrefix', `must be a string without "{" or "}" (a hash tag would put every key in one cluster slot), got ${JSON.stringify(keyPrefix)}`);
  }
  if (options.cluster && (!Array.isArray(options.cluster.nodes) || options.cluster.nodes.length === 0)) {
    throw new ConfigError('redis.cluster.nodes', 'expected at least one seed node, e.g. [{ host: "10.0.0.1", port: 6379 }]');
  }
  const name = options.name ?? d.name;
  if (!/^[a-z0-9_-]{1,32}$/.test(name)) {
    throw new ConfigError('redis.name', `expected 1-32 characters of [a-z0-9_-] (it is a metric attribute), got ${JSON.stringify(name)}`);
  }
  const ttlSeconds = positive('ttlSeconds', options.ttlSeconds ?? d.ttlSeconds, true);
  if (!Number.isInteger(ttlSeconds)) throw new ConfigError('redis.ttlSeconds', `expected whole seconds, got ${ttlSeconds}`);
  const checksum = options.checksum ?? d.checksum;
  if (checksum !== 'xxh3' && checksum !== 'crc32' && checksum !== 'none') {
    throw new ConfigError('redis.checksum', `expected 'xxh3' (the default), 'crc32' or 'none', got ${JSON.stringify(checksum)}`);
  }
  const directLoad = options.directLoad ?? d.directLoad;
  if (typeof directLoad !== 'boolean') throw new ConfigError('redis.directLoad', `expected true or false, got ${JSON.stringify(directLoad)}`);
  const url = options.url ?? d.url;
  checkRedisUrl(url);
  return {
    url,
    checksum,
    redis: options.redis ?? {},
    cluster: options.cluster ? { nodes: options.cluster.nodes, options: options.cluster.options ?? {} } : undefined,
    client: options.client,
    keyPrefix,
    ttlSeconds,
    operationTimeoutMs: positive('operationTimeoutMs', options.operationTimeoutMs ?? d.operationTimeoutMs),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs ?? d.connectTimeoutMs),
    reconnectMaxDelayMs: positive('reconnectMaxDelayMs', options.reconnectMaxDelayMs ?? d.reconnectMaxDelayMs),
    maxPipelineBytes: positive('maxPipelineBytes', options.maxPipelineBytes ?? d.maxPipelineBytes),
    closeTimeoutMs: positive('closeTimeoutMs', options.closeTimeoutMs ?? d.closeTimeoutMs, true),
    directLoad,
    breaker: resolveCircuitBreakerOptions(options.breaker, 'redis.breaker'),
    name,
    now: options.now ?? (() => performance.now()),
  };
}

/** ioredis reads a URL it cannot parse as something else and connects elsewhere: refuse it up front. */
function checkRedisUrl(url: unknown): void {
  const fix = 'use redis://[user:password@]host:port[/db], rediss://… for TLS, or the absolute path of a Unix socket';
  if (typeof url !== 'string' || url === '') throw new ConfigError('redis.url', `expected a Redis URL, got ${JSON.stringify(url)}; ${fix}`);
  if (url.startsWith('/') && !url.startsWith('//')) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('redis.url', `${JSON.stringify(url)} is not a URL; ${fix}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError('redis.url', `scheme ${parsed.protocol} is not Redis; ${fix}`);
  if (parsed.hostname === '') throw new ConfigError('redis.url', `${JSON.stringify(url)} names no host; ${fix}`);
}
