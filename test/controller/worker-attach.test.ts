import { expect } from 'chai';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { CacheController, WorkerClient } from '@tierkv/controller';
import { waitFor } from '@tierkv/test-utils';

const layout = MemoryLayout.bytes(512);
const hex = (n: number) => n.toString(16).padStart(16, '0');

function write(sm: StorageManager, ids: readonly number[]): ObjectKey[] {
  const ks = ids.map((i) => objectKey(hex(i), 'attach-test'));
  sm.reserveWrite(ks, layout).forEach((o) => expect(o).to.not.equal(undefined));
  sm.finishWrite(ks);
  return ks;
}

/** The controller's L1 view of one worker, as hex chunk hashes. */
function poolOf(controller: CacheController, worker: string): Set<string> {
  const set = controller.dumpKeys().get(worker)?.get('l1') ?? new Set<string>();
  return new Set([...set].map((s) => s.slice(s.lastIndexOf(':') + 1)));
}

function l1Set(sm: StorageManager): Set<string> {
  return new Set(sm.l1Keys().map((k) => k.chunkHash));
}

const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

describe('worker client attached to a StorageManager that already holds data', function () {
  this.timeout(20_000);
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  it('reports the keys written before it attached, and a full sync sends exactly the L1 key set', async () => {
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false, reapIntervalMs: 50, gapGraceMs: 300 });
    await controller.start();
    open.push(controller);
    const sm = new StorageManager({ l1: { capacityBytes: 64 * 1024, alignBytes: 64 } });
    open.push(sm);
    write(sm, [1, 2, 3, 4, 5, 6, 7, 8]);
    sm.l1.delete(write(sm, [9]));
    // A temporary object is never reported as written: it must not appear either.
    const [tmp] = sm.l1.reserveWrite([objectKey(hex(99), 'attach-test')], layout, 'new', { temporary: true });
    expect(tmp).to.not.equal(undefined);

    const client = new WorkerClient({ controller: controller.addresses, instanceId: 'late', heartbeatIntervalMs: 50, requestTimeoutMs: 500, flushIntervalMs: 10, syncPollIntervalMs: 10 });
    open.push({ close: () => client.close() });
    await client.start(sm);
    expect(client.trackedKeys).to.equal(8);
    write(sm, [10, 11]);
    await client.fullSync('test');
    await waitFor(() => same(poolOf(controller, 'late/0'), l1Set(sm)), 'the controller pool to equal the L1 key set');
    expect(l1Set(sm).size).to.equal(10);
  });

  it('a full sync takes the L1 key list as the truth over what the client tracked', async () => {
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false, reapIntervalMs: 50, gapGraceMs: 300 });
    await controller.start();
    open.push(controller);
    const sm = new StorageManager({ l1: { capacityBytes: 64 * 1024, alignBytes: 64 } });
    open.push(sm);
    const client = new WorkerClient({ controller: controller.addresses, instanceId: 'stale', heartbeatIntervalMs: 50, requestTimeoutMs: 500, flushIntervalMs: 10, syncPollIntervalMs: 10 });
    open.push({ close: () => client.close() });
    await client.start(sm);
    write(sm, [1, 2, 3]);
    // A report L1 does not back (a wrong manual admit): the tracked set is stale.
    client.admit([objectKey(hex(77), 'attach-test')]);
    await waitFor(() => poolOf(controller, 'stale/0').size === 4, 'the reports to arrive');
    await client.fullSync('test');
    await waitFor(() => same(poolOf(controller, 'stale/0'), l1Set(sm)), 'the controller pool to equal the L1 key set');
    expect([...poolOf(controller, 'stale/0')].sort()).to.deep.equal([1, 2, 3].map(hex));
    expect(client.trackedKeys).to.equal(3);
  });
});
