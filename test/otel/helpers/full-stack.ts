import { MemoryLayout, objectKey } from '@tierkv/core';
import type { StorageManager } from '@tierkv/storage';
import { freePort, waitFor } from '@tierkv/test-utils';
import { CacheController, ControllerClient, VllmEventPublisher, WorkerClient, type WorkerStorage } from '@tierkv/controller';
import { TierkvClient, TierkvServer } from '@tierkv/server';

export interface RunningStack {
  close(): Promise<void>;
}

/**
 * Drives the MP-mode server and the cache controller so their metrics exist: a controller on
 * free loopback ports, a worker client reporting `storage`'s keys to it (registration with keys
 * leads to a full sync), a server over `storage`, a client storing, retrieving and looking up,
 * a prefix lookup at the controller, and vLLM KV events both ways: a VllmEventPublisher (with
 * replay) that the controller follows as a vLLM publisher and scores (see runVllmEvents).
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
      60_000,
      50,
    );
    await runVllmEvents(controller, lookups, closers);
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

/**
 * The "vLLM events" row's workload: a VllmEventPublisher (PUB + replay ROUTER) that the controller
 * follows, block changes published until the controller has ingested them (its SUB joins
 * asynchronously), a removal, and score requests by block hash. The publisher listens to a
 * storage stand-in, so the StorageManager's own counters (which the first test checks) stay as
 * they are.
 */
async function runVllmEvents(controller: CacheController, client: ControllerClient, closers: (() => Promise<unknown>)[]): Promise<void> {
  let listener: Parameters<WorkerStorage['addListener']>[0] | undefined;
  const storage: WorkerStorage = {
    addListener: (l) => {
      listener = l;
      return () => (listener = undefined);
    },
    l1Keys: () => [],
  };
  const publisher = new VllmEventPublisher({ endpoint: 'tcp://127.0.0.1:0', replayEndpoint: 'tcp://127.0.0.1:0', blockSize: 256, flushIntervalMs: 5 });
  await publisher.start(storage);
  closers.push(() => publisher.close());
  controller.vllm.add({ name: 'otel-test', endpoint: publisher.endpoint!, replayEndpoint: publisher.replayEndpoint!, model: 'otel-test-model', blockSize: 256 });
  let next = 0;
  const hashes: string[] = [];
  // Score requests for the row's score panels (by the newest block alone: the blocks published
  // before the SUB joined were never seen, and a score counts the prefix from block 0).
  const score = async () => (await client.score({ model: 'otel-test-model', blockHashes: [BigInt(`0x${hashes.at(-1)!}`).toString()] }))[0]?.blocks ?? 0;
  // The controller's SUB joins asynchronously and a PUB drops what it sends before: publish a new
  // block each round until the controller has ingested one.
  const ingested = () => (controller.vllm.list()[0]?.stats.events.BlockStored ?? 0) > 0;
  await waitFor(
    async () => {
      if (ingested()) return true;
      // A new block each round: the publisher sends a chunk's admission once.
      const hash = (0x7000 + next++).toString(16).padStart(16, '0');
      hashes.push(hash);
      listener!.onL1KeysWriteFinished!([objectKey(hash, 'otel-test-model')]);
      await publisher.flush();
      return false;
    },
    'the controller to ingest the published vLLM events',
    60_000,
    50,
  );
  // A removal too, so both event types have been ingested, then a few more scores.
  const removed = hashes[hashes.length - 1]!;
  listener!.onL1KeysDeleted!([objectKey(removed, 'otel-test-model')]);
  await publisher.flush();
  await waitFor(async () => controller.vllm.list()[0]!.stats.events.BlockRemoved > 0, 'the removal to be ingested', 60_000, 20);
  for (let i = 0; i < 3; i++) await score();
}
