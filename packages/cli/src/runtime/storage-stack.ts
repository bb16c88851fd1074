import { FsL2Adapter, StorageManager, type L2Adapter } from '@tierkv/storage';
import { RedisL2Adapter } from '@tierkv/l2-redis';

export interface StorageStackConfig {
  readonly l1: { size: number; eviction: 'lru'; watermark?: number; evictionRatio?: number };
  readonly chunkTokens: number;
  readonly fs?: { path: string; budget?: number | undefined } | undefined;
  readonly redisUrl?: string | undefined;
}

/** Opens the L2 adapters (fs first, then Redis) and the StorageManager over them. */
export async function openStorage(config: StorageStackConfig): Promise<StorageManager> {
  const l2: L2Adapter[] = [];
  try {
    if (config.fs) {
      l2.push(await FsL2Adapter.open({ path: config.fs.path, ...(config.fs.budget !== undefined ? { capacityBytes: config.fs.budget } : {}) }));
    }
    if (config.redisUrl) l2.push(new RedisL2Adapter({ url: config.redisUrl }));
    return new StorageManager({
      l1: {
        capacityBytes: config.l1.size,
        eviction: config.l1.eviction,
        ...(config.l1.watermark !== undefined ? { triggerWatermark: config.l1.watermark } : {}),
        ...(config.l1.evictionRatio !== undefined ? { evictionRatio: config.l1.evictionRatio } : {}),
      },
      l2,
      chunkTokens: config.chunkTokens,
    });
  } catch (err) {
    await Promise.allSettled(l2.map((a) => a.close()));
    throw err;
  }
}
