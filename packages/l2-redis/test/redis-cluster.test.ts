import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { registerL2AdapterSuite } from '@tierkv/storage/testing';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { RedisCluster } from '@tierkv/test-utils/redis-cluster';
import { requireRedisServer } from '@tierkv/test-utils/redis-server';

describe('RedisL2Adapter on a Redis Cluster (3 masters)', function () {
  this.timeout(30_000);
  let cluster: RedisCluster;
  let seq = 0;

  before(async function () {
    requireRedisServer(this, ['redis-server', 'redis-cli']);
    cluster = await RedisCluster.start(3);
  });

  after(async () => {
    await cluster?.stop();
  });

  const create = async (meterProvider?: ReturnType<typeof createTestMeterProvider>['meterProvider']) => {
    const a = new RedisL2Adapter(
      { cluster: { nodes: cluster.seeds }, keyPrefix: `c${++seq}:` },
      meterProvider ? { meterProvider } : {},
    );
    expect(await a.ready(10_000), 'cluster client ready').to.equal(true);
    return a;
  };

  registerL2AdapterSuite('RedisL2Adapter, cluster', () => create(), { timeoutMs: 30_000 });

  it('spreads keys over every master and answers one batch across slots', async () => {
    const tmp = createTestMeterProvider();
    const a = await create(tmp.meterProvider);
    try {
      const keys = Array.from({ length: 60 }, (_, i) => objectKey(i.toString(16).padStart(16, '0'), 'spread'));
      const data = keys.map((_, i) => new Uint8Array(1024).fill(i));
      const items = keys.map((key, i) => ({ key, layout: MemoryLayout.bytes(1024), data: data[i]! }));
      expect(await a.store(items)).to.deep.equal(keys.map(() => true));
      const counts = await Promise.all(
        cluster.nodes.map(async (n) => {
          const r = new Redis(n.port, '127.0.0.1');
          try {
            return (await r.keys(`c${seq}:*`)).length;
          } finally {
            r.disconnect();
          }
        }),
      );
      expect(counts.reduce((x, y) => x + y, 0)).to.equal(60);
      for (const c of counts) expect(c, `keys per master ${counts.join('/')}`).to.be.greaterThan(0);
      const targets = keys.map(() => new Uint8Array(1024));
      expect(await a.load(keys, targets)).to.deep.equal(keys.map(() => true));
      targets.forEach((t, i) => expect(t.every((b) => b === i)).to.equal(true));
      expect(await a.clear()).to.equal(60);
      const rm = await tmp.collect();
      expect(valueOf(rm, 'db.client.operation.duration', { 'db.operation.name': 'BATCH GET' })).to.equal(1);
      expect(valueOf(rm, 'db.client.operation.duration', { 'error.type': 'connection' })).to.equal(0);
    } finally {
      await a.close();
      await tmp.shutdown();
    }
  });
});
