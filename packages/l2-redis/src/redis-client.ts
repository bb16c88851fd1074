import { Cluster, Redis } from 'ioredis';
import type { ResolvedRedisL2Options } from './redis-options.js';

/**
 * The ioredis client an adapter creates for itself (single node, or Cluster when `cluster` is
 * set): a down Redis fails fast instead of queueing commands, and ioredis reconnects in the
 * background with a capped backoff.
 */
export function createRedisClient(o: ResolvedRedisL2Options): Redis | Cluster {
  const backoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 10), o.reconnectMaxDelayMs);
  const failure = {
    commandTimeout: o.operationTimeoutMs,
    connectTimeout: o.connectTimeoutMs,
    // A down Redis fails fast instead of buffering commands (and their megabytes) without bound.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: backoff,
    lazyConnect: false,
  };
  if (!o.cluster) return new Redis(o.url, { ...o.redis, ...failure });
  const extra = o.cluster.options;
  return new Cluster(o.cluster.nodes, {
    ...extra,
    enableOfflineQueue: false,
    // Per-key commands issued in one tick become one pipeline per node: the cluster's batching.
    // Not for SET (its payloads would be copied once more into the pipeline's buffer) nor for
    // the STRLEN sent just before it, which must stay ahead of the SET on the wire.
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['set', 'strlen'],
    clusterRetryStrategy: backoff,
    redisOptions: { ...extra.redisOptions, ...failure },
  });
}

/** Resolves true once `client` is connected, false after `timeoutMs` (never rejects). */
export function whenReady(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}
