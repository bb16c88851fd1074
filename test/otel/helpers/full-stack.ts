import { MemoryLayout, objectKey } from '@tierkv/core';
import type { StorageManager } from '@tierkv/storage';
import { freePort, waitFor } from '@tierkv/test-utils';
import { CacheController, ControllerClient, WorkerClient } from '@tierkv/controller';
import { TierkvClient, TierkvServer } from '@tierkv/server';

export interface RunningStack {
  close(): Promise<void>;
}

/**
 * Drives the MP-mode server and the cache controller so their metrics exist: a controller on
 * free loopback ports, a worker client reporting `storage`'s keys to it (registration with keys
 * leads to a full sync), a server over `storage`, a client storing, retrieving and looking up,
 * and a prefix lookup at the controller.
 */
export async function runServerAndController(storage: StorageManager): Promise<RunningStack> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const controller = new CacheController({ host: '127.0.0.1', pullPort: await freePort(), routerPort: await freePort(), httpPort: false });
    const addresses = await controller.start();
    closers.push(() => controller.close());
    const worker = new WorkerClient({ controller: { router: addresses.router, pull: addresses.pull }, instanceId: 'otel-test', workerId: 0 });
    await worker.start(storage);
    closers.push(() => worker.close());
    const server = new TierkvServer({ storage, host: '127.0.0.1', port: 0, httpPort: null });
    await server.start();
    closers.push(() => server.shutdown(2_000));
    const layout = MemoryLayout.bytes(4096);
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 5_000 });
    closers.push(async () => client.close());
    const keys = Array.from({ length: 8 }, (_, i) => objectKey((0x5000 + i).toString(16).padStart(16, '0'), 'otel-test-model'));
    await client.ping();
    await client.store(keys, keys.map((_, i) => new Uint8Array(4096).fill(i)));
    await client.lookup(keys);
    await client.retrieve(keys);
    await client.status();
    // A prefix lookup across workers, as a router would ask. The controller learns of the stored
    // keys through the worker's batched events, so ask until they have arrived (the pool may hold
    // other keys already: the worker reports what L1 held when it attached).
    const lookups = new ControllerClient({ router: addresses.router, timeoutMs: 5_000 });
    closers.push(async () => lookups.close());
    await waitFor(
      async () => (await lookups.lookup({ hashes: keys.map((k) => k.chunkHash) }, { modelName: 'otel-test-model' })).length > 0,
      'the controller lookup to find a holder of the stored keys',
      10_000,
      50,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}
