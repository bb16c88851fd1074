import { statSync } from 'node:fs';
import type { EVICTION_POLICIES } from '../config/shared-config.js';
import { ConfigError, type PerModelAttributesOption } from '@tierkv/core';
import { FsL2Adapter, StorageManager, type L2Adapter } from '@tierkv/storage';
import { DEFAULT_REDIS_L2_OPTIONS, RedisL2Adapter, type RedisL2Options } from '@tierkv/l2-redis';

export interface StorageStackConfig {
  readonly l1: { size: number; eviction: (typeof EVICTION_POLICIES)[number]; watermark?: number; evictionRatio?: number };
  readonly chunkTokens: number;
  readonly fs?: { path: string; budget?: number | undefined; fsync?: boolean | undefined } | undefined;
  /** A Redis L2 tier after the filesystem one. */
  readonly redis?: RedisL2Options | undefined;
  /** Where a Redis that does not answer at startup, and fs L2 failures and healing, are reported. */
  readonly warn?: (line: string) => void;
  /** The opt-in per-model and per-tenant metric attributes (`--per-model-attributes`). */
  readonly perModelAttributes?: PerModelAttributesOption | undefined;
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0` (no credentials in logs); cluster → its seed list. */
export function describeRedis(options: RedisL2Options): string {
  if (options.cluster) return `cluster ${options.cluster.nodes.map((n) => (typeof n === 'object' ? `${n.host ?? '127.0.0.1'}:${n.port ?? 6379}` : String(n))).join(',')}`;
  const url = new URL(options.url ?? DEFAULT_REDIS_L2_OPTIONS.url);
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * Opens the L2 adapters (fs first, then Redis) and the StorageManager over them. Startup waits for
 * Redis at most its connect timeout: the adapter degrades (lookups miss, stores are dropped) until
 * it connects, so a down Redis is a warning, not a failed start.
 */
export async function openStorage(config: StorageStackConfig): Promise<StorageManager> {
  const l2: L2Adapter[] = [];
  try {
    if (config.fs) {
      checkFsPath(config.fs.path);
      l2.push(
        await FsL2Adapter.open({
          path: config.fs.path,
          ...(config.fs.budget !== undefined ? { capacityBytes: config.fs.budget } : {}),
          // Disk full, permission or vanished-directory warnings go where the stack's other warnings go.
          ...(config.warn ? { warn: config.warn } : {}),
          ...(config.fs.fsync !== undefined ? { fsync: config.fs.fsync } : {}),
        }),
      );
    }
    if (config.redis) {
      const redis = new RedisL2Adapter(config.redis);
      l2.push(redis);
      const timeoutMs = config.redis.connectTimeoutMs ?? DEFAULT_REDIS_L2_OPTIONS.connectTimeoutMs;
      if (!(await redis.ready(timeoutMs))) {
        config.warn?.(
          `warning: Redis L2 at ${describeRedis(config.redis)} did not answer within ${timeoutMs} ms; ` +
            'serving without it (lookups miss, stores are dropped) and reconnecting in the background',
        );
      }
    }
    return new StorageManager({
      l1: {
        capacityBytes: config.l1.size,
        eviction: config.l1.eviction,
        ...(config.l1.watermark !== undefined ? { triggerWatermark: config.l1.watermark } : {}),
        ...(config.l1.evictionRatio !== undefined ? { evictionRatio: config.l1.evictionRatio } : {}),
      },
      l2,
      chunkTokens: config.chunkTokens,
      ...(config.perModelAttributes ? { perModelAttributes: config.perModelAttributes } : {}),
    });
  } catch (err) {
    await Promise.allSettled(l2.map((a) => a.close()));
    throw err;
  }
}

/** The fs L2 path must be a directory or not exist yet (it is created); anything else is a config error. */
function checkFsPath(path: string): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat !== undefined && !stat.isDirectory()) {
    throw new ConfigError('l2.fs.path', `${path} exists and is not a directory; give --fs-path a directory (it is created if missing)`);
  }
}
