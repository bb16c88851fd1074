import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter, MemoryL2Adapter, StorageManager, type L2Adapter } from '@tierkv/storage';
import { RedisL2Adapter } from '@tierkv/l2-redis';

export interface StorageWorkload {
  readonly manager: StorageManager;
  /** Closes the manager and removes the filesystem tier's directory. */
  close(): Promise<void>;
}

const CHUNK_BYTES = 4096;
const layout = MemoryLayout.bytes(CHUNK_BYTES);
const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'otel-test-model');
const range = (from: number, to: number): ObjectKey[] => Array.from({ length: to - from }, (_, i) => key(from + i));

/**
 * A deterministic storage workload touching every tier: 128 chunks written in batches of 8 into
 * an L1 of 64 chunks (so the watermark and on-demand eviction run), written through to a memory
 * and a filesystem L2, then prefixes prefetched (L1 hits, L2 loads, misses), read, released,
 * looked up and deleted. Leaves the manager open (its gauges stay readable) and quiescent.
 * With `redisUrl`, a Redis L2 tier joins them (its `db.client.*` and breaker metrics then exist).
 */
export async function runStorageWorkload(options: { redisUrl?: string } = {}): Promise<StorageWorkload> {
  const dir = mkdtempSync(join(tmpdir(), 'tierkv-otel-'));
  const l2: L2Adapter[] = [new MemoryL2Adapter({ name: 'memory', capacityBytes: 96 * CHUNK_BYTES }), await FsL2Adapter.open({ path: join(dir, 'l2') })];
  if (options.redisUrl) {
    const redis = new RedisL2Adapter({ url: options.redisUrl, keyPrefix: 'tierkv-otel-test:' });
    if (!(await redis.ready(10_000))) throw new Error(`Redis at ${options.redisUrl} did not become ready`);
    l2.push(redis);
  }
  const manager = new StorageManager({ l1: { capacityBytes: 64 * CHUNK_BYTES }, l2 });
  try {
    for (let b = 0; b < 16; b++) {
      const keys = range(b * 8, b * 8 + 8);
      // Back-pressure (the write-through holds 25% of L1): let it drain rather than be refused.
      if (manager.writeBackpressure()) await manager.flush();
      const objs = manager.reserveWrite(keys, layout);
      objs.forEach((o, i) => o?.data.fill((b * 8 + i) & 0xff));
      manager.finishWrite(keys.filter((_, i) => objs[i] !== undefined));
      if (b % 4 === 3) await manager.flush();
    }
    await manager.flush();
    // Prefixes: recent chunks (L1), early chunks (evicted from L1, loaded from L2), unknown ones (miss).
    for (const keys of [range(120, 128), range(0, 12), range(40, 48), range(1000, 1004)]) {
      const handle = manager.submitPrefetch(keys, layout);
      const ready = await manager.waitPrefetch(handle);
      const prefix = keys.slice(0, ready);
      if (prefix.length > 0 && manager.readPrefetched(prefix)) manager.finishReadPrefetched(prefix);
    }
    await manager.lookup(range(0, 130));
    await manager.delete(range(100, 104));
    await manager.flush();
  } catch (err) {
    await manager.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    manager,
    async close() {
      await manager.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
