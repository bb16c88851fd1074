import { expect } from 'chai';
import { DataPointType, type Histogram } from '@opentelemetry/sdk-metrics';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { StorageManager } from '@tierkv/storage';
import { createTestMeterProvider, createTestTracerProvider, findMetric, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';

let seq = 0;
const key = (): ObjectKey => objectKey((0x9000 + ++seq).toString(16).padStart(16, '0'), 'attr-test-model');
const item = (k: ObjectKey, n: number) => ({ key: k, layout: MemoryLayout.bytes(64), data: new Uint8Array(64).fill(n) });

/** The duration histogram's data points, with their attributes. */
async function durationPoints(tmp: TestMeterProvider) {
  const metric = findMetric(await tmp.collect(), 'db.client.operation.duration');
  expect(metric, 'db.client.operation.duration exported').to.not.equal(undefined);
  expect(metric!.dataPointType).to.equal(DataPointType.HISTOGRAM);
  return metric!.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as Histogram }));
}

// Issue 13: db.client.operation.duration carries the connection (server.address, server.port,
// db.namespace), the pipeline size and the semantic convention's buckets; and a StorageManager's
// providers reach the Redis adapter's metrics and spans.
describe('RedisL2Adapter telemetry attributes (real redis-server)', function () {
  this.timeout(20_000);
  let server: RedisServer;
  let tmp: TestMeterProvider;
  const closers: (() => Promise<unknown>)[] = [];

  before(async function () {
    requireRedisServer(this);
    server = await RedisServer.start();
  });
  after(async () => server?.stop());
  beforeEach(() => (tmp = createTestMeterProvider()));
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await tmp.shutdown();
  });

  async function adapter(url = server.url, redis = {}): Promise<RedisL2Adapter> {
    const a = new RedisL2Adapter({ url, keyPrefix: `attrs${++seq}:`, redis }, { meterProvider: tmp.meterProvider });
    closers.push(() => a.close());
    expect(await a.ready()).to.equal(true);
    return a;
  }

  it('db.client.operation.duration has server.address, server.port, db.namespace, and the semconv buckets', async () => {
    const a = await adapter();
    await a.store([item(key(), 1)]);
    const points = await durationPoints(tmp);
    const set = points.find((p) => p.attributes['db.operation.name'] === 'SET')!;
    expect(set.attributes).to.deep.equal({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '0',
      'server.address': '127.0.0.1',
      'server.port': server.port,
    });
    expect(set.value.buckets.boundaries).to.deep.equal([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
  });

  it('db.namespace is the selected database index, as a string', async () => {
    const a = await adapter(`${server.url}/3`);
    await a.store([item(key(), 2)]);
    const set = (await durationPoints(tmp)).find((p) => p.attributes['db.operation.name'] === 'SET')!;
    expect(set.attributes['db.namespace']).to.equal('3');
  });

  it('db.operation.batch.size only on pipelines of two or more, rounded up to a power of two', async () => {
    const a = await adapter();
    await a.store([1, 2, 3, 4, 5].map((n) => item(key(), n)));
    await a.store([6, 7].map((n) => item(key(), n)));
    const points = await durationPoints(tmp);
    const batch = points.filter((p) => p.attributes['db.operation.name'] === 'BATCH SET');
    expect(batch.map((p) => p.attributes['db.operation.batch.size']).sort()).to.deep.equal([2, 8]);
    const single = points.filter((p) => p.attributes['db.operation.name'] === 'SET' || p.attributes['db.operation.name'] === 'STRLEN');
    for (const p of single) expect(p.attributes).to.not.have.property('db.operation.batch.size');
  });

  it("a StorageManager's tracerProvider and meterProvider reach the Redis adapter (spans with the exact batch size)", async () => {
    const traces = createTestTracerProvider();
    closers.push(() => traces.tracerProvider.shutdown());
    // The adapter is created without providers: it would follow the (unset) global ones.
    const redis = new RedisL2Adapter({ url: server.url, keyPrefix: `sm${++seq}:` });
    expect(await redis.ready()).to.equal(true);
    const sm = new StorageManager({ l1: { capacityBytes: 1 << 20 }, l2: [redis], meterProvider: tmp.meterProvider, tracerProvider: traces.tracerProvider });
    closers.push(() => sm.close());
    const layout = MemoryLayout.bytes(64);
    const keys = [key(), key(), key()];
    const objs = sm.reserveWrite(keys, layout);
    objs.forEach((o, i) => o!.data.fill(i));
    sm.finishWrite(keys);
    await sm.flush();
    const redisSpans = traces.spans().filter((s) => s.instrumentationScope.name === '@tierkv/l2-redis');
    expect(redisSpans.map((s) => s.name)).to.include('BATCH SET');
    const set = redisSpans.find((s) => s.name === 'BATCH SET')!;
    expect(set.attributes).to.include({ 'db.system.name': 'redis', 'db.operation.batch.size': 3, 'db.namespace': '0', 'server.address': '127.0.0.1', 'server.port': server.port });
    // (Parenting under `tierkv.l2 store` needs a context manager; traces-end-to-end.test.ts checks it.)
    const rm = await tmp.collect();
    expect(valueOf(rm, 'db.client.operation.duration', { 'db.operation.name': 'BATCH SET' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.breaker.state', { 'tierkv.breaker.state': 'closed' })).to.equal(1);
  });

  it('an adapter given providers of its own keeps them', async () => {
    const own = createTestTracerProvider();
    const managers = createTestTracerProvider();
    closers.push(() => own.tracerProvider.shutdown(), () => managers.tracerProvider.shutdown());
    const redis = new RedisL2Adapter({ url: server.url, keyPrefix: `own${++seq}:` }, { tracerProvider: own.tracerProvider });
    expect(await redis.ready()).to.equal(true);
    const sm = new StorageManager({ l1: { capacityBytes: 1 << 20 }, l2: [redis], tracerProvider: managers.tracerProvider });
    closers.push(() => sm.close());
    const k = key();
    sm.reserveWrite([k], MemoryLayout.bytes(64))[0]!.data.fill(9);
    sm.finishWrite([k]);
    await sm.flush();
    expect(own.spans().map((s) => s.name)).to.include('SET');
    expect(managers.spans().filter((s) => s.instrumentationScope.name === '@tierkv/l2-redis')).to.deep.equal([]);
  });
});
