import { expect } from 'chai';
import { CacheController } from '../../src/controller/cache-controller.js';
import { WorkerClient } from '../../src/worker-client/worker-client.js';
import { FakeStorage, hashOf, keysOf } from '../helpers/fake-storage.js';
import { waitFor } from '@tierkv/test-utils';

describe('controller HTTP API', () => {
  let controller: CacheController;
  let worker: WorkerClient;
  let storage: FakeStorage;
  let base: string;
  const TOKEN = 's3cret';
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeEach(async () => {
    controller = new CacheController({
      pullPort: 0,
      routerPort: 0,
      httpPort: 0,
      authToken: TOKEN,
      metrics: { scrape: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'tierkv_controller_kv_pool_keys 3\n' }) },
    });
    base = (await controller.start()).http!;
    storage = new FakeStorage();
    worker = new WorkerClient({ controller: controller.addresses, instanceId: 'i1', heartbeatIntervalMs: 50, authToken: TOKEN });
    await worker.start(storage);
    storage.write(keysOf([1, 2, 3]));
    await worker.flush();
    await waitFor(() => controller.poolUsage().keys === 3, 'keys at the controller');
  });

  afterEach(async () => {
    await worker.close();
    await controller.close();
  });

  it('serves /health without a token and everything else only with it', async () => {
    const h = await fetch(`${base}/health`);
    expect(h.status).to.equal(200);
    expect(await h.json()).to.include({ status: 'ok', workers: 1, keys: 3 });
    const denied = await fetch(`${base}/workers`);
    expect(denied.status).to.equal(401);
    expect(denied.headers.get('www-authenticate')).to.equal('Bearer');
    expect((await fetch(`${base}/workers`, { headers: { authorization: 'Bearer wrong' } })).status).to.equal(401);
    const ok = await fetch(`${base}/workers`, { headers: auth });
    const body = (await ok.json()) as { workers: { instanceId: string; keys: number }[] };
    expect(body.workers.map((w) => [w.instanceId, w.keys])).to.deep.equal([['i1', 3]]);
  });

  it('looks up by hashes and by tokens', async () => {
    const r = await fetch(`${base}/lookup`, { method: 'POST', headers: auth, body: JSON.stringify({ modelName: 'm', hashes: [hashOf(1), hashOf(2), hashOf(9)] }) });
    expect(await r.json()).to.deep.equal({ chunkSize: 256, holders: [{ instanceId: 'i1', workerId: 0, chunks: 2, tokens: 512, locations: { l1: 2 } }] });
    const t = await fetch(`${base}/lookup`, { method: 'POST', headers: auth, body: JSON.stringify({ modelName: 'm', tokens: [1, 2, 3] }) });
    expect(await t.json()).to.deep.equal({ chunkSize: 256, holders: [] });
    const bad = await fetch(`${base}/lookup`, { method: 'POST', headers: auth, body: JSON.stringify({ modelName: 'm', hashes: ['xyz'] }) });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.match(/hashes/);
    const notJson = await fetch(`${base}/lookup`, { method: 'POST', headers: auth, body: '{' });
    expect(notJson.status).to.equal(400);
  });

  it('reports key statistics', async () => {
    const r = (await (await fetch(`${base}/keys/stats`, { headers: auth })).json()) as { keys: number; byLocation: Record<string, number>; bytesPerKey: number };
    expect(r.keys).to.equal(3);
    expect(r.byLocation).to.deep.equal({ l1: 3 });
    expect(r.bytesPerKey).to.be.greaterThan(0);
  });

  it('clears a worker through its next heartbeat', async () => {
    const r = await fetch(`${base}/workers/i1/0/clear`, { method: 'POST', headers: auth });
    expect(r.status).to.equal(202);
    await waitFor(() => storage.keys.size === 0 && controller.poolUsage().keys === 0, 'the worker to clear and report it');
    expect((await fetch(`${base}/workers/nope/0/clear`, { method: 'POST', headers: auth })).status).to.equal(404);
  });

  it('forgets a worker on DELETE, and the worker re-registers and syncs', async () => {
    expect((await fetch(`${base}/workers/i1/0`, { method: 'DELETE', headers: auth })).status).to.equal(200);
    await waitFor(() => controller.poolUsage().keys === 3 && controller.workers()[0]?.sync?.state === 'completed', 're-registration and full sync');
  });

  it('serves /metrics from the scrape function, 404 with a hint without one, and 404 for unknown routes', async () => {
    const m = await fetch(`${base}/metrics`, { headers: auth });
    expect(m.headers.get('content-type')).to.match(/^text\/plain/);
    expect(await m.text()).to.contain('tierkv_controller_kv_pool_keys');
    const bare = new CacheController({ pullPort: 0, routerPort: 0, httpPort: 0 });
    const { http } = await bare.start();
    try {
      const r = await fetch(`${http}/metrics`);
      expect(r.status).to.equal(404);
      expect(await r.text()).to.match(/tierkv controller/);
      expect((await fetch(`${http}/nope`)).status).to.equal(404);
    } finally {
      await bare.close();
    }
  });
});
