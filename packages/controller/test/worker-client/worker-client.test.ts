import { expect } from 'chai';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { CacheController } from '../../src/controller/cache-controller.js';
import { WorkerClient } from '../../src/worker-client/worker-client.js';
import type { WorkerClientOptions } from '../../src/worker-client/worker-client-options.js';
import { FakePeer } from '../helpers/fake-peer.js';
import { FakeStorage, hashOf, keysOf } from '../helpers/fake-storage.js';

/** The controller's view of one worker as a set of hex hashes. */
function viewOf(controller: CacheController, worker = 'i1/0', location = 'l1'): Set<string> {
  const set = controller.dumpKeys().get(worker)?.get(location) ?? new Set<string>();
  return new Set([...set].map((s) => s.split(':')[1]!));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

describe('WorkerClient', () => {
  let controller: CacheController;
  let telemetry: TestMeterProvider;
  const open: { close(): Promise<unknown> }[] = [];

  beforeEach(async () => {
    telemetry = createTestMeterProvider();
    controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false, reapIntervalMs: 50, gapGraceMs: 300 });
    await controller.start();
  });

  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    await controller.close();
    await telemetry.shutdown();
  });

  async function startWorker(storage: FakeStorage, o: Partial<WorkerClientOptions> = {}): Promise<WorkerClient> {
    const w = new WorkerClient({ controller: controller.addresses, instanceId: 'i1', heartbeatIntervalMs: 40, requestTimeoutMs: 500, syncPollIntervalMs: 10, meterProvider: telemetry.meterProvider, ...o });
    open.push(w);
    await w.start(storage);
    return w;
  }

  it('reports writes, deletes and evictions in order, batched by count and by time', async () => {
    const storage = new FakeStorage();
    const w = await startWorker(storage, { batchSize: 4, flushIntervalMs: 5 });
    storage.write(keysOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    storage.delete(keysOf([2]));
    storage.evict(keysOf([3, 99])); // 99 was never held: no event
    storage.write(keysOf([2]));
    await waitFor(() => sameSet(viewOf(controller), storage.hashes()), 'the controller to match the storage');
    expect(w.stats.admitsSent).to.equal(11);
    expect(w.stats.evictsSent).to.equal(2);
    expect(w.stats.batchesSent).to.be.at.least(4);
    expect(controller.stats.discontinuities).to.equal(0);
    const rm = await telemetry.collect();
    expect(valueOf(rm, 'tierkv.worker.events.sent', { 'tierkv.kv.operation': 'admit' })).to.equal(11);
    expect(valueOf(rm, 'tierkv.worker.tracked_keys')).to.equal(9);
    expect(valueOf(rm, 'tierkv.worker.registrations')).to.equal(1);
    expect(valueOf(rm, 'tierkv.worker.batch.size')).to.equal(w.stats.batchesSent);
  });

  it('a lost batch leads to a gap, a full sync, and an exact view again', async () => {
    const storage = new FakeStorage();
    let drop = false;
    await startWorker(storage, { faults: { dropPush: (t) => t === 'kv_batch' && drop } });
    storage.write(keysOf([1, 2, 3]));
    await waitFor(() => viewOf(controller).size === 3, 'first batch');
    drop = true;
    storage.write(keysOf([4]));
    storage.delete(keysOf([1]));
    await new Promise((r) => setTimeout(r, 60));
    drop = false;
    storage.write(keysOf([5]));
    await waitFor(() => controller.stats.sessions.completed >= 1 && sameSet(viewOf(controller), storage.hashes()), 'a full sync to repair the view');
    expect(controller.stats.discontinuities).to.be.at.least(1);
    expect(viewOf(controller)).to.deep.equal(new Set([2, 3, 4, 5].map(hashOf)));
  });

  it('detects a lost last batch through the heartbeat numbers', async () => {
    const storage = new FakeStorage();
    let drop = false;
    await startWorker(storage, { faults: { dropPush: (t) => t === 'kv_batch' && drop } });
    storage.write(keysOf([1]));
    await waitFor(() => viewOf(controller).size === 1, 'first batch');
    drop = true;
    storage.write(keysOf([2]));
    await new Promise((r) => setTimeout(r, 30));
    drop = false;
    await waitFor(() => sameSet(viewOf(controller), storage.hashes()), 'the heartbeat check and a full sync');
    expect(controller.stats.syncRequested.sequence_gap).to.equal(1);
  });

  it('resends sync batches the controller reports missing', async () => {
    const storage = new FakeStorage();
    let dropSync = 3;
    const w = await startWorker(storage, { syncBatchSize: 7, faults: { dropPush: (t) => t === 'sync_batch' && dropSync-- > 0 } });
    storage.write(keysOf(Array.from({ length: 50 }, (_, i) => i + 1)));
    await w.fullSync('test');
    await waitFor(() => sameSet(viewOf(controller), storage.hashes()), 'the sync to complete');
    expect(w.stats.batchesResent).to.equal(3);
    expect(w.stats.syncRuns.completed).to.equal(1);
  });

  it('survives drops, duplicates and reordering on the wire (fake peer)', async () => {
    const peer = new FakePeer();
    await peer.start(controller.addresses);
    open.push(peer);
    let n = 0;
    peer.pushFate = () => (['deliver', 'duplicate', 'hold', 'deliver', 'drop'] as const)[n++ % 5]!;
    const storage = new FakeStorage();
    await startWorker(storage, { controller: peer.endpoints, batchSize: 3, flushIntervalMs: 2 });
    for (let i = 0; i < 40; i++) {
      storage.write(keysOf([i]));
      if (i % 3 === 0 && i > 0) storage.delete(keysOf([i - 1]));
      await new Promise((r) => setTimeout(r, 3));
    }
    peer.pushFate = () => 'deliver';
    await peer.release();
    await waitFor(() => sameSet(viewOf(controller), storage.hashes()), 'convergence after the chaos', 10_000);
    expect(peer.counts.dropped + peer.counts.duplicated + peer.counts.reordered).to.be.greaterThan(3);
    expect(controller.stats.discontinuities).to.be.at.least(1);
  });

  it('recreates its DEALER after a request times out and carries on', async () => {
    const peer = new FakePeer();
    await peer.start(controller.addresses);
    open.push(peer);
    const storage = new FakeStorage();
    const w = await startWorker(storage, { controller: peer.endpoints, requestTimeoutMs: 150 });
    peer.hangReplies = 1;
    await waitFor(() => w.stats.reconnects >= 1, 'a timeout');
    storage.write(keysOf([1]));
    await waitFor(() => viewOf(controller).size === 1 && controller.workers()[0]!.lastHeartbeatAgoMs < 100, 'heartbeats after the reset');
    expect(w.stats.failures.get('heartbeat|timeout')).to.equal(1);
  });

  it('re-registers and syncs after a controller restart', async () => {
    const storage = new FakeStorage();
    const w = await startWorker(storage);
    storage.write(keysOf([1, 2, 3]));
    await waitFor(() => viewOf(controller).size === 3, 'first batch');
    const { pull, router } = controller.addresses;
    await controller.close();
    storage.write(keysOf([4]));
    storage.delete(keysOf([1]));
    const port = (e: string) => Number(e.split(':').pop());
    controller = new CacheController({ pullPort: port(pull), routerPort: port(router), httpPort: false, gapGraceMs: 300 });
    await controller.start();
    await waitFor(() => sameSet(viewOf(controller), storage.hashes()) && controller.stats.sessions.completed === 1, 'a sync with the new controller');
    expect(w.stats.registrations).to.equal(2);
    expect(controller.stats.syncRequested.registration).to.equal(1);
  });

  it('reports L2 stores and deletes under l2:<adapter> when trackL2 is on', async () => {
    const storage = new FakeStorage();
    await startWorker(storage, { trackL2: true });
    storage.write(keysOf([1, 2]));
    storage.l2('fs', 'stored', keysOf([1, 2]));
    storage.evict(keysOf([1]));
    storage.l2('fs', 'deleted', keysOf([2]));
    await waitFor(() => viewOf(controller, 'i1/0', 'l2:fs').size === 1 && viewOf(controller).size === 1, 'both locations');
    expect(viewOf(controller, 'i1/0', 'l2:fs')).to.deep.equal(new Set([hashOf(1)]));
    expect(viewOf(controller)).to.deep.equal(new Set([hashOf(2)]));
    // A chunk only in L2 still counts for the worker's prefix.
    expect(controller.lookup({ hashes: [hashOf(1), hashOf(2)] }, { modelName: 'm' })).to.deep.equal([
      { instanceId: 'i1', workerId: 0, chunks: 2, tokens: 512, locations: { 'l2:fs': 1 } },
    ]);
  });

  it('deregisters on close; a killed worker is reaped instead', async () => {
    const a = await startWorker(new FakeStorage());
    const b = await startWorker(new FakeStorage(), { instanceId: 'i2' });
    await waitFor(() => controller.workers().length === 2, 'both registered');
    await a.close();
    expect(controller.workers().map((x) => x.instanceId)).to.deep.equal(['i2']);
    await b.kill();
    expect(controller.workers().length).to.equal(1);
  });
});
