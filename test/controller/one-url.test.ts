import { expect } from 'chai';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { CacheController, WorkerClient } from '@tierkv/controller';
import { createTestMeterProvider, freePort, valueOf, waitFor } from '@tierkv/test-utils';

const layout = MemoryLayout.bytes(512);
const hex = (n: number) => n.toString(16).padStart(16, '0');

function write(sm: StorageManager, ids: readonly number[]): ObjectKey[] {
  const ks = ids.map((i) => objectKey(hex(i), 'one-url-test'));
  sm.reserveWrite(ks, layout).forEach((o) => expect(o).to.not.equal(undefined));
  sm.finishWrite(ks);
  return ks;
}

/** The controller's L1 view of one worker, as hex chunk hashes. */
function poolOf(controller: CacheController, worker: string): Set<string> {
  const set = controller.dumpKeys().get(worker)?.get('l1') ?? new Set<string>();
  return new Set([...set].map((s) => s.slice(s.lastIndexOf(':') + 1)));
}

const l1Set = (sm: StorageManager) => new Set(sm.l1Keys().map((k) => k.chunkHash));
const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
const port = (endpoint: string) => endpoint.slice(endpoint.lastIndexOf(':') + 1);

describe('one URL to reach the controller (real ZeroMQ sockets)', function () {
  this.timeout(30_000);
  const open: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
  });

  async function startController(options: ConstructorParameters<typeof CacheController>[0] = {}): Promise<CacheController> {
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false, reapIntervalMs: 50, gapGraceMs: 300, ...options });
    await controller.start();
    open.push(controller);
    return controller;
  }

  function storage(): StorageManager {
    const sm = new StorageManager({ l1: { capacityBytes: 256 * 1024, alignBytes: 64 } });
    open.push(sm);
    return sm;
  }

  function worker(options: Partial<ConstructorParameters<typeof WorkerClient>[0]> & Pick<ConstructorParameters<typeof WorkerClient>[0], 'controller'>): WorkerClient {
    const client = new WorkerClient({ instanceId: 'one-url', heartbeatIntervalMs: 50, requestTimeoutMs: 2_000, flushIntervalMs: 10, syncPollIntervalMs: 10, warn: () => undefined, ...options });
    open.push({ close: () => client.close() });
    return client;
  }

  it('a worker given only the ROUTER URL pushes where the register reply says, and the controller holds its exact key set', async () => {
    const controller = await startController();
    const sm = storage();
    write(sm, [1, 2, 3]); // held before the worker starts: the registration asks for a full sync
    const warnings: string[] = [];
    const client = worker({ controller: { router: controller.addresses.router }, warn: (l) => warnings.push(l) });
    await client.start(sm);
    expect(client.pullEndpoint).to.equal(controller.addresses.pull);
    write(sm, [4, 5, 6, 7]);
    sm.l1.delete(write(sm, [8]));
    await waitFor(() => same(poolOf(controller, 'one-url/0'), l1Set(sm)), 'the controller pool to equal the L1 key set');
    expect(l1Set(sm).size).to.equal(7);
    // Events after the sync arrive too (the event stream, not only the snapshot).
    write(sm, [9, 10]);
    await waitFor(() => same(poolOf(controller, 'one-url/0'), l1Set(sm)), 'later events to reach the controller');
    expect(client.stats.dropped).to.deep.equal({ send_failed: 0, overflow: 0, fault: 0, unreachable: 0 });
    expect(client.stats.unreachable).to.deep.equal({ events: 0, sync: 0 });
    expect(warnings).to.deep.equal([]);
  });

  it('a controller bound to every interface (0.0.0.0) is dialled at the host the worker reached its ROUTER at', async () => {
    const controller = await startController({ host: '0.0.0.0' });
    expect(controller.addresses.pull).to.match(/^tcp:\/\/0\.0\.0\.0:\d+$/);
    const sm = storage();
    const client = worker({ controller: { router: `tcp://127.0.0.1:${port(controller.addresses.router)}` } });
    await client.start(sm);
    expect(client.pullEndpoint).to.equal(`tcp://127.0.0.1:${port(controller.addresses.pull)}`);
    write(sm, [1, 2, 3, 4]);
    await waitFor(() => same(poolOf(controller, 'one-url/0'), l1Set(sm)), 'the controller pool to equal the L1 key set');
  });

  it('an explicit PULL endpoint wins over the one the controller names', async () => {
    const controller = await startController();
    const wrong = `tcp://127.0.0.1:${await freePort()}`;
    const client = worker({ controller: { router: controller.addresses.router, pull: wrong } });
    await client.start(storage());
    expect(client.pullEndpoint).to.equal(wrong);
  });

  it('a wrong PULL URL: the worker warns and reports it in a metric, drops events, and the controller fails the stalled sync and asks again', async () => {
    const controllerWarnings: string[] = [];
    const controller = await startController({ syncTimeoutMs: 500, warn: (l) => controllerWarnings.push(l) });
    const wrong = `tcp://127.0.0.1:${await freePort()}`; // nothing listens there
    const sm = storage();
    write(sm, [1, 2, 3]);
    const telemetry = createTestMeterProvider();
    open.push({ close: () => telemetry.shutdown() });
    const warnings: string[] = [];
    const client = worker({
      controller: { router: controller.addresses.router, pull: wrong },
      unreachableAfterMs: 300,
      warnIntervalMs: 60_000,
      warn: (l) => warnings.push(l),
      meterProvider: telemetry.meterProvider,
    });
    await client.start(sm);
    write(sm, [4, 5]);

    await waitFor(() => warnings.some((l) => /events for the controller are not getting through: no connection to its PULL endpoint/.test(l)), 'the events warning');
    await waitFor(() => warnings.some((l) => /full sync \S+ failed: 0 of 1 batches reached the controller/.test(l)), 'the sync warning');
    expect(warnings.find((l) => /not getting through/.test(l))).to.contain(wrong);
    await waitFor(() => client.stats.dropped.unreachable > 0, 'events dropped as unreachable');

    // The controller: the sync stalls (no batch), fails at its timeout, and is asked for again.
    await waitFor(() => controller.stats.sessions.failed >= 1, 'the controller to fail the stalled sync', 15_000);
    expect(controllerWarnings.some((l) => /no batch arrived for 500 ms \(0 of 1 in\)/.test(l)), controllerWarnings.join('\n')).to.equal(true);
    await waitFor(() => controller.stats.syncRequested.sync_failed >= 1 && client.stats.syncRuns.failed >= 2, 'the retried sync', 15_000);
    expect(poolOf(controller, 'one-url/0').size).to.equal(0);

    const rm = await telemetry.collect();
    expect(valueOf(rm, 'tierkv.worker.controller.unreachable', { 'tierkv.worker.channel': 'events' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.worker.controller.unreachable', { 'tierkv.worker.channel': 'sync' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.worker.events.dropped', { 'tierkv.worker.drop.reason': 'unreachable' })).to.be.greaterThan(0);
    // At most once per warnIntervalMs each.
    expect(warnings.filter((l) => /not getting through/.test(l))).to.have.length(1);
    expect(warnings.filter((l) => /full sync/.test(l))).to.have.length(1);
  });
});
