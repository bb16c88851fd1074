// The library workload of the host matrix: every tierkv module a server deployment runs, driven
// through the installed packages the way a host service would use them. A controller on loopback,
// a StorageManager with a small L1 over a filesystem L2 (so chunks are evicted and loaded back),
// a worker client reporting to the controller, a server over the storage, a client storing,
// looking up and retrieving, prefix lookups at the controller, and a plain-TCP (`tierkv+tcp`)
// server whose socket reads (Node's onread on accepted sockets, recycled receive buffers,
// retrieves into the caller's buffers) are checked byte for byte on each Node version.
// `createStack()` only creates and starts the modules; `drive()` is one round of traffic, so a case
// can create the modules before the host registers its SDK and drive them after (late binding).
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';
import { CacheController, ControllerClient, WorkerClient } from '@tierkv/controller';
import { TierkvClient, TierkvServer } from '@tierkv/server';

const CHUNK = 4096;
const BATCH = 16;
const MODEL = 'host-matrix';
const layout = MemoryLayout.bytes(CHUNK);
/** The plain-TCP server's chunks: a store of 8 × 64 KiB spans several socket reads. */
const TCP_CHUNK = 64 * 1024;
const TCP_BATCH = 8;
const tcpLayout = MemoryLayout.bytes(TCP_CHUNK);

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it answers truthy; fails naming `what` after `timeoutMs`. No fixed sleeps. */
export async function waitFor(probe, what, timeoutMs = 60_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const keysOf = (round, batch) => Array.from({ length: BATCH }, (_, i) => objectKey((0x100000 * (round + 1) + batch * BATCH + i).toString(16).padStart(16, '0'), MODEL));

/** Starts the modules (no traffic yet). */
export async function createStack() {
  const closers = [];
  const dir = mkdtempSync(join(tmpdir(), 'tierkv-host-matrix-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err) => console.error(`close: ${err?.message ?? err}`));
  };
  try {
    const controller = new CacheController({ host: '127.0.0.1', pullPort: await freePort(), routerPort: await freePort(), httpPort: false });
    const addresses = await controller.start();
    closers.push(() => controller.close());
    // 64 chunks of L1 for 4 × 16 × 16 chunks stored a round: most are evicted and read back from L2.
    const storage = new StorageManager({
      l1: { capacityBytes: 64 * CHUNK },
      l2: [await FsL2Adapter.open({ path: join(dir, 'l2'), capacityBytes: 64 * 2 ** 20 })],
    });
    closers.push(() => storage.close());
    const worker = new WorkerClient({ controller: { router: addresses.router, pull: addresses.pull }, instanceId: 'host-matrix', workerId: 0 });
    await worker.start(storage);
    closers.push(() => worker.close());
    const server = new TierkvServer({ storage, host: '127.0.0.1', port: 0, httpPort: null });
    await server.start();
    closers.push(() => server.shutdown(2_000));
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 10_000 });
    closers.push(async () => client.close());
    const lookups = new ControllerClient({ router: addresses.router, timeoutMs: 10_000 });
    closers.push(async () => lookups.close());
    const tcpStorage = new StorageManager({ l1: { capacityBytes: 16 * TCP_CHUNK * TCP_BATCH } });
    const tcpServer = new TierkvServer({ storage: tcpStorage, host: '127.0.0.1', port: 0, httpPort: null, transport: 'tcp' });
    await tcpServer.start();
    closers.push(() => tcpServer.shutdown(2_000));
    const tcpClient = new TierkvClient({ endpoint: tcpServer.endpoint, layout: tcpLayout, timeoutMs: 10_000 });
    closers.push(async () => tcpClient.close());
    const into = Array.from({ length: TCP_BATCH }, () => new Uint8Array(TCP_CHUNK));
    let round = 0;
    return {
      close,
      /** One round: stores that overflow L1 into L2, lookups, retrieves of evicted and resident chunks, controller lookups. */
      async drive() {
        const r = round++;
        await client.ping();
        const batches = Array.from({ length: 16 }, (_, b) => keysOf(r, b));
        for (const keys of batches) {
          await client.store(keys, keys.map((_, i) => new Uint8Array(CHUNK).fill(i)));
          // The write-through backlog is bounded by a quarter of L1 (one batch here): let it drain.
          await storage.flush();
        }
        // The controller learns of stored keys through the worker's batched events: ask until the last
        // batch (still in L1) has arrived, before the retrieves below evict it.
        const last = batches[15];
        await waitFor(
          async () => (await lookups.lookup({ hashes: last.map((k) => k.chunkHash) }, { modelName: MODEL })).length > 0,
          `the controller lookup to find the keys stored in round ${r}`,
        );
        // Evicted batches come back from L2 (one evicted chunk in 16 is sampled for the
        // evict-to-rewrite gap, so four batches always hold a sampled one); the last is still in L1.
        for (const keys of [...batches.slice(0, 4), batches[15]]) {
          // A lookup starts a prefetch that locks what it found: the retrieve takes over (and releases) its locks.
          const { prefetchId } = await client.lookup(keys);
          await client.retrieve(keys, prefetchId === undefined ? {} : { prefetchId });
        }
        await client.status();
        // Plain TCP: a store that spans socket reads (its buffer recycled for the next round's), then a
        // retrieve into reused buffers; every byte must come back as stored.
        const tcpKeys = keysOf(r, 100).slice(0, TCP_BATCH);
        const sent = tcpKeys.map((_, i) => new Uint8Array(TCP_CHUNK).map((_, j) => (r * 31 + i * 7 + j) & 0xff));
        const stored = await tcpClient.store(tcpKeys, sent, { mode: 'all' });
        if (stored.storedCount !== TCP_BATCH) throw new Error(`tierkv+tcp stored ${stored.storedCount} of ${TCP_BATCH}`);
        const back = await tcpClient.retrieve(tcpKeys, { into });
        if (back.chunks.length !== TCP_BATCH) throw new Error(`tierkv+tcp retrieved ${back.chunks.length} of ${TCP_BATCH}`);
        for (let i = 0; i < TCP_BATCH; i++) {
          if (back.chunks[i] !== into[i] || Buffer.compare(into[i], sent[i]) !== 0) throw new Error(`tierkv+tcp chunk ${i} of round ${r} came back different`);
        }
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}
