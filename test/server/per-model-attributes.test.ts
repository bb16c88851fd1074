import { expect } from 'chai';
import { ConfigError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { TierkvClient, TierkvServer, type TierkvServerOptions } from '@tierkv/server';
import { StorageManager } from '@tierkv/storage';
import { createTestMeterProvider, findMetric, thrownBy, type TestMeterProvider } from '@tierkv/test-utils';

const layout = MemoryLayout.bytes(256);
const keyOf = (i: number, model: string, salt = ''): ObjectKey => objectKey((0x6000 + i).toString(16).padStart(16, '0'), model, 0, salt);

/** The attribute sets of a histogram's points. */
async function pointAttributes(tmp: TestMeterProvider, name: string): Promise<Record<string, unknown>[]> {
  const m = findMetric(await tmp.collect(), name);
  return (m?.dataPoints ?? []).map((p) => ({ ...p.attributes }));
}

// Issue 13 (LMCache #3108): opt-in model and tenant attributes on the server and storage request
// histograms, off by default, bounded by a limit of distinct (model, salt) pairs.
describe('per-model and per-tenant metric attributes (opt-in)', function () {
  this.timeout(30_000);
  let tmp: TestMeterProvider;
  const closers: (() => Promise<unknown>)[] = [];

  beforeEach(() => (tmp = createTestMeterProvider()));
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await tmp.shutdown();
  });

  async function start(perModelAttributes?: TierkvServerOptions['perModelAttributes']) {
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20 }, meterProvider: tmp.meterProvider, ...(perModelAttributes !== undefined ? { perModelAttributes } : {}) });
    const server = new TierkvServer({ storage, port: 0, httpPort: null, meterProvider: tmp.meterProvider, ...(perModelAttributes !== undefined ? { perModelAttributes } : {}) });
    await server.start();
    closers.push(() => server.shutdown(1_000));
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 10_000 });
    closers.push(async () => client.close());
    return { storage, client };
  }

  async function storeAndRetrieve(client: TierkvClient, keys: ObjectKey[]): Promise<void> {
    await client.store(keys, keys.map((_, i) => new Uint8Array(256).fill(i)));
    await client.retrieve(keys);
  }

  it('off by default: no series carries a model or a salt', async () => {
    const { client } = await start();
    await storeAndRetrieve(client, [keyOf(1, 'llama-3-8b', 'tenant-a')]);
    for (const name of ['tierkv.server.request.duration', 'tierkv.storage.prefetch.duration']) {
      const points = await pointAttributes(tmp, name);
      expect(points.length, name).to.be.greaterThan(0);
      for (const a of points) expect(a, name).to.not.have.any.keys('gen_ai.request.model', 'tierkv.cache.salt');
    }
  });

  it('on: the server and storage request histograms carry the model and the salt', async () => {
    const { client } = await start(true);
    await storeAndRetrieve(client, [keyOf(2, 'llama-3-8b', 'tenant-a'), keyOf(3, 'llama-3-8b', 'tenant-a')]);
    await storeAndRetrieve(client, [keyOf(4, 'qwen-2-7b')]);
    const server = await pointAttributes(tmp, 'tierkv.server.request.duration');
    expect(server).to.deep.include({ 'tierkv.request.type': 'store', 'gen_ai.request.model': 'llama-3-8b', 'tierkv.cache.salt': 'tenant-a' });
    expect(server).to.deep.include({ 'tierkv.request.type': 'retrieve', 'gen_ai.request.model': 'qwen-2-7b', 'tierkv.cache.salt': '' });
    const storage = await pointAttributes(tmp, 'tierkv.storage.prefetch.duration');
    expect(storage).to.deep.include({ 'gen_ai.request.model': 'llama-3-8b', 'tierkv.cache.salt': 'tenant-a' });
    expect(storage).to.deep.include({ 'gen_ai.request.model': 'qwen-2-7b', 'tierkv.cache.salt': '' });
  });

  it('past the limit, further models share one _OTHER series: the series stay bounded', async () => {
    const limit = 3;
    const { client } = await start({ limit });
    // Twice the limit of distinct tenants, in two collection intervals (the SDK's own limit only
    // holds within one interval under cumulative temporality).
    for (let round = 0; round < 2; round++) {
      for (let t = 0; t < 2 * limit; t++) await storeAndRetrieve(client, [keyOf(100 + round * 10 + t, 'model', `tenant-${round}-${t}`)]);
      await tmp.collect();
    }
    const server = await pointAttributes(tmp, 'tierkv.server.request.duration');
    const salts = new Set(server.map((a) => a['tierkv.cache.salt']));
    expect([...salts].sort()).to.deep.equal(['_OTHER', 'tenant-0-0', 'tenant-0-1', 'tenant-0-2']);
    // store and retrieve, each for limit + 1 pairs (the first three and _OTHER).
    expect(server.length).to.equal(2 * (limit + 1));
    expect(server.filter((a) => a['gen_ai.request.model'] === '_OTHER').length).to.equal(2);
    const storage = await pointAttributes(tmp, 'tierkv.storage.prefetch.duration');
    expect(storage.length).to.equal(limit + 1);
  });

  it('refuses a malformed option, naming it', () => {
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20 } });
    closers.push(() => storage.close());
    const err = thrownBy(() => new TierkvServer({ storage, port: 0, httpPort: null, perModelAttributes: { limit: 0 } }), ConfigError);
    expect(err.message).to.include('server.perModelAttributes.limit');
    expect(thrownBy(() => new StorageManager({ l1: { capacityBytes: 1 << 20 }, perModelAttributes: { max: 3 } as never }), ConfigError).message).to.include('storage.perModelAttributes.max');
  });
});
