import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';

const CHUNK = 16 * 1024;
const LAYOUT = MemoryLayout.bytes(CHUNK);

/** The bytes chunk `i` must always hold: any mix-up between keys or a torn value shows. */
function expected(i: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  const view = new DataView(out.buffer);
  let x = (i + 1) * 2654435761;
  for (let o = 0; o < CHUNK; o += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    view.setUint32(o, x);
  }
  return out;
}

const keyOf = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'chaos-model');

interface Stats {
  iterations: number;
  writes: number;
  reads: number;
  hits: number;
  wrongBytes: number;
  errors: unknown[];
}

/**
 * A storage workload (write a chunk, then prefetch and verify another one) running until
 * stopped. It never expects Redis to be up: a miss is fine, wrong bytes or a thrown error are not.
 */
function startWorkload(sm: StorageManager, keyRange: () => [number, number]): { stats: Stats; stop(): Promise<void> } {
  const stats: Stats = { iterations: 0, writes: 0, reads: 0, hits: 0, wrongBytes: 0, errors: [] };
  let running = true;
  const written = new Set<number>();
  const loop = (async () => {
    let n = 0;
    while (running) {
      try {
        const [lo, hi] = keyRange();
        const w = lo + (n * 7919) % (hi - lo);
        const [obj] = sm.reserveWrite([keyOf(w)], LAYOUT, 'new');
        if (obj) {
          obj.data.set(expected(w));
          sm.finishWrite([keyOf(w)]);
          stats.writes++;
        }
        written.add(w);
        // Read a chunk written earlier (often evicted from the small L1, so it comes from L2).
        const pool = [...written];
        const r = pool[(n * 104729) % pool.length]!;
        const handle = sm.submitPrefetch([keyOf(r)], LAYOUT);
        const ready = await sm.waitPrefetch(handle);
        stats.reads++;
        if (ready === 1) {
          const objs = sm.readPrefetched([keyOf(r)]);
          if (objs) {
            stats.hits++;
            if (Buffer.compare(objs[0]!.data, expected(r)) !== 0) stats.wrongBytes++;
            sm.finishReadPrefetched([keyOf(r)]);
          }
        }
      } catch (err) {
        stats.errors.push(err);
      }
      stats.iterations++;
      n++;
      if (n % 8 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    stats,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('Redis L2 chaos: Redis stops and comes back under a running workload', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let dir: string;
  let tmp: TestMeterProvider;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async function () {
    requireRedisServer(this);
    server = await RedisServer.start();
    dir = await mkdtemp(join(tmpdir(), 'tierkv-chaos-'));
    tmp = createTestMeterProvider();
    process.on('unhandledRejection', onUnhandled);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.stop();
    await tmp?.shutdown();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('never returns wrong bytes, never fails the workload, and reaches Redis again after the restart', async () => {
    const telemetry = { meterProvider: tmp.meterProvider };
    const redis = new RedisL2Adapter(
      {
        url: server.url,
        keyPrefix: 'chaos:',
        operationTimeoutMs: 200,
        connectTimeoutMs: 200,
        reconnectMaxDelayMs: 100,
        breaker: { failureThreshold: 3, openMs: 150 },
      },
      telemetry,
    );
    expect(await redis.ready()).to.equal(true);
    const fs = await FsL2Adapter.open({ path: dir, ...telemetry });
    // Redis first: while it is down every lookup goes through it (as misses) to the file system.
    const sm = new StorageManager({ l1: { capacityBytes: 1024 * 1024 }, l2: [redis, fs], ...telemetry });
    const raw = new Redis(server.port, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    raw.on('error', () => {});
    let range: [number, number] = [0, 400];
    let rm: Awaited<ReturnType<TestMeterProvider['collect']>> | undefined;
    const workload = startWorkload(sm, () => range);
    const { stats } = workload;
    try {
      // 1. Healthy: chunks go through to Redis and come back from it.
      await waitFor(async () => valueOf(await tmp.collect(), 'tierkv.l2.loaded', { 'tierkv.l2.adapter': 'redis' })! > 20, 'loads from Redis', 10_000);
      expect(redis.breakerState).to.equal('closed');

      // 2. Redis hangs (SIGSTOP): the breaker opens, the workload goes on from L1 and the file system.
      server.pause();
      await waitFor(() => redis.breakerState === 'open', 'the breaker to open while Redis hangs', 5000);
      const hitsAtPause = stats.hits;
      await waitFor(() => stats.hits > hitsAtPause + 50, 'reads served while Redis hangs', 10_000);

      // 3. Redis dies (connections reset) and stays away for a while.
      await server.stop();
      const hitsAtKill = stats.hits;
      await waitFor(() => stats.hits > hitsAtKill + 50, 'reads served while Redis is down', 10_000);
      expect(redis.breakerState).to.not.equal('closed');

      // 4. Redis restarts on the same port (empty); the adapter reconnects and the breaker closes.
      await server.start();
      range = [1000, 1400]; // fresh chunks from now on
      await waitFor(() => redis.breakerState === 'closed', 'the breaker to close after the restart', 10_000);

      // 5. New stores reach Redis again.
      await raw.connect();
      await waitFor(async () => {
        await sm.flush();
        const present = await Promise.all([1000, 1007, 1014, 1021].map((i) => raw.exists(redis.redisKey(keyOf(i)))));
        return present.some((p) => p === 1);
      }, 'new chunks to be stored in the restarted Redis', 10_000);
      rm = await tmp.collect(); // before close(): a closed adapter stops reporting
    } finally {
      await workload.stop();
      raw.disconnect();
      await sm.close();
    }

    if (process.env['TIERKV_CHAOS_VERBOSE']) {
      console.log(stats, {
        loadedFromRedis: valueOf(rm!, 'tierkv.l2.loaded', { 'tierkv.l2.adapter': 'redis' }),
        loadedFromFs: valueOf(rm!, 'tierkv.l2.loaded', { 'tierkv.l2.adapter': 'fs' }),
        droppedStores: valueOf(rm!, 'tierkv.l2.redis.stores.dropped'),
        breakerTransitions: valueOf(rm!, 'tierkv.l2.redis.breaker.transitions'),
      });
    }
    expect(stats.errors, 'workload errors').to.deep.equal([]);
    expect(stats.wrongBytes, 'wrong bytes returned').to.equal(0);
    expect(stats.hits).to.be.greaterThan(100);
    expect(rm).to.not.equal(undefined);
    expect(valueOf(rm!, 'tierkv.l2.redis.breaker.transitions', { 'tierkv.breaker.state': 'open' })).to.be.at.least(1);
    expect(valueOf(rm!, 'tierkv.l2.redis.breaker.transitions', { 'tierkv.breaker.state': 'closed' })).to.be.at.least(1);
    expect(valueOf(rm!, 'tierkv.l2.redis.stores.dropped')).to.be.greaterThan(0);
    expect(valueOf(rm!, 'tierkv.l2.redis.short_circuited')).to.be.greaterThan(0);
    expect(unhandled, 'unhandled rejections').to.deep.equal([]);
  });
});
