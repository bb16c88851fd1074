import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { batchPlan } from '../support/batch-plan.js';
import { allTrue } from '../support/payload.js';
import { startRedis } from '../support/redis-server.js';
import { QUICK_BUDGET_MS } from '../timing.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Keys per call: one request's chunks. */
const BATCH = 16;
/** Distinct objects per size; later rounds overwrite them. */
const OBJECTS = 64;

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * Rates (work per second) of several subjects measured in alternation, one round each in turn
 * (round r of every subject works on the same batch), the order reversed every other round (A B C,
 * C B A, …) so no subject always follows the same one, until `budgetMs` has passed: on a shared
 * machine a load spike hits all of them alike, so their ratios stay meaningful even when the
 * absolute figures move. `after(i)` runs untimed after each round of subject i (checks).
 */
async function interleaved(
  budgetMs: number,
  subjects: readonly ((round: number) => Promise<number>)[],
  minRounds: number,
  after: (subject: number) => void = () => {},
): Promise<number[]> {
  const work = subjects.map(() => 0);
  const time = subjects.map(() => 0);
  const start = performance.now();
  for (let round = 0; round < minRounds || performance.now() - start < budgetMs; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = round % 2 === 0 ? k : subjects.length - 1 - k;
      const t0 = performance.now();
      work[i]! += await subjects[i]!(round);
      time[i]! += performance.now() - t0;
      after(i);
    }
  }
  return work.map((w, i) => (w * 1000) / time[i]!);
}

interface Clients {
  server: { url: string; stop(): Promise<void> };
  raw: Redis;
  bentoConnection: Redis;
  adapter: RedisL2Adapter;
  /** The same adapter without the payload checksum (`checksum: 'none'`). */
  plain: RedisL2Adapter;
  bento: BentoCache<{ redis: ReturnType<typeof bentostore> }>;
}

let clients: Clients | undefined;

async function setup(): Promise<void> {
  const server = await startRedis();
  const raw = new Redis(server.url);
  const bentoConnection = new Redis(server.url);
  const adapter = new RedisL2Adapter({ url: server.url, keyPrefix: 'bench:tierkv:', operationTimeoutMs: 10_000 });
  const plain = new RedisL2Adapter({ url: server.url, keyPrefix: 'bench:plain:', operationTimeoutMs: 10_000, checksum: 'none', name: 'redis-plain' });
  if (!(await adapter.ready(5000)) || !(await plain.ready(5000))) throw new Error(`RedisL2Adapter could not connect to ${server.url}`);
  // bentocache with only its Redis (L2) layer: the same bytes through its public API.
  const bento = new BentoCache({
    default: 'redis',
    prefix: 'bench:bento',
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: bentoConnection })) },
  });
  clients = { server, raw, bentoConnection, adapter, plain, bento };
}

async function teardown(): Promise<void> {
  const c = clients;
  clients = undefined;
  if (!c) return;
  await c.adapter.close().catch(() => undefined);
  await c.plain.close().catch(() => undefined);
  await c.bento.disconnectAll().catch(() => undefined);
  c.raw.disconnect();
  c.bentoConnection.disconnect();
  await c.server.stop();
}

interface Figures {
  rawStore: number;
  rawDirectStore: number;
  tierkvStore: number;
  plainStore: number;
  bentoStore: number;
  rawLoad: number;
  tierkvLoad: number;
  plainLoad: number;
  tierkvLookupLoad: number;
  bentoLoad: number;
}

async function measureSize(ctx: BenchContext, c: Clients, size: number): Promise<Figures> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  const { batches, sources, targets, storeItems, loadKeys } = batchPlan(size, OBJECTS, BATCH);
  const rawKey = (id: number) => `bench:raw:${size}:${id}`;
  const bentoKey = (id: number) => `${size}:${id}`;
  const work = BATCH * size;
  const minRounds = batches.length; // one full lap, so every object exists before loading
  const batchOf = (round: number) => round % batches.length;

  // Stores: one pipeline of SETs (raw), one adapter call, sixteen concurrent bentocache sets.
  const rawStore = async (round: number): Promise<number> => {
    const p = c.raw.pipeline();
    batches[batchOf(round)]!.forEach((id, j) => p.set(rawKey(id), asBuffer(sources[j]!)));
    for (const [err] of (await p.exec())!) if (err) throw err;
    return work;
  };
  // The same SETs as separate commands without a Pipeline object (ioredis still writes them back to
  // back): what the adapter does, shown so its margin over the pipeline is not mistaken for magic.
  const rawDirectStore = async (round: number): Promise<number> => {
    await Promise.all(batches[batchOf(round)]!.map((id, j) => c.raw.set(rawKey(id), asBuffer(sources[j]!))));
    return work;
  };
  const tierkvStore = async (round: number): Promise<number> => {
    allTrue('RedisL2Adapter.store', await c.adapter.store(storeItems[batchOf(round)]!));
    return work;
  };
  const plainStore = async (round: number): Promise<number> => {
    allTrue('RedisL2Adapter.store', await c.plain.store(storeItems[batchOf(round)]!));
    return work;
  };
  // bentocache's L2 takes strings (its serializer and its driver's GET/SET are string-typed), so a
  // binary chunk has to travel as base64.
  const bentoStore = async (round: number): Promise<number> => {
    await Promise.all(batches[batchOf(round)]!.map((id, j) => c.bento.set({ key: bentoKey(id), value: asBuffer(sources[j]!).toString('base64') })));
    return work;
  };

  // Loads land in caller-owned memory (the L1 object), so the raw reference copies there too.
  const rawLoad = async (round: number): Promise<number> => {
    const p = c.raw.pipeline();
    const ids = batches[batchOf(round)]!;
    for (const id of ids) p.getBuffer(rawKey(id));
    const replies = (await p.exec())!;
    replies.forEach(([err, value], j) => {
      if (err || !Buffer.isBuffer(value) || value.length !== size) throw err ?? new Error(`raw GET ${rawKey(ids[j]!)} missed`);
      targets[j]!.set(value);
    });
    return work;
  };
  const tierkvLoad = async (round: number): Promise<number> => {
    allTrue('RedisL2Adapter.load', await c.adapter.load(loadKeys[batchOf(round)]!, targets));
    return work;
  };
  const plainLoad = async (round: number): Promise<number> => {
    allTrue('RedisL2Adapter.load', await c.plain.load(loadKeys[batchOf(round)]!, targets));
    return work;
  };
  const tierkvLookupLoad = async (round: number): Promise<number> => {
    const ks = loadKeys[batchOf(round)]!;
    allTrue('RedisL2Adapter.lookupAndLock', await c.adapter.lookupAndLock(ks));
    try {
      allTrue('RedisL2Adapter.load', await c.adapter.load(ks, targets));
    } finally {
      await c.adapter.unlock(ks);
    }
    return work;
  };
  const bentoLoad = async (round: number): Promise<number> => {
    const ids = batches[batchOf(round)]!;
    await Promise.all(
      ids.map(async (id, j) => {
        const v = await c.bento.get<string>({ key: bentoKey(id) });
        if (typeof v !== 'string') throw new Error(`bentocache get ${bentoKey(id)} missed`);
        if (asBuffer(targets[j]!).write(v, 'base64') !== size) throw new Error('bentocache value has the wrong size');
      }),
    );
    return work;
  };

  const [rawStoreRate, rawDirectStoreRate, tierkvStoreRate, plainStoreRate, bentoStoreRate] = await interleaved(
    budget * 5,
    [rawStore, rawDirectStore, tierkvStore, plainStore, bentoStore],
    minRounds,
  );
  const loaders = ['raw ioredis', 'RedisL2Adapter', "RedisL2Adapter (checksum 'none')", 'RedisL2Adapter (lookup)', 'bentocache'];
  const [rawLoadRate, tierkvLoadRate, plainLoadRate, lookupLoadRate, bentoLoadRate] = await interleaved(
    budget * 5,
    [rawLoad, tierkvLoad, plainLoad, tierkvLookupLoad, bentoLoad],
    minRounds,
    (i) => {
      // Object id i*BATCH+j was written from sources[j]: every loader must have produced exactly those bytes.
      for (let j = 0; j < BATCH; j++) {
        if (Buffer.compare(targets[j]!, sources[j]!) !== 0) throw new Error(`${loaders[i]} loaded object ${j} differs from what was stored`);
        targets[j]!.fill(0, 0, 64);
      }
    },
  );
  const f: Figures = {
    rawStore: rawStoreRate!,
    rawDirectStore: rawDirectStoreRate!,
    tierkvStore: tierkvStoreRate!,
    plainStore: plainStoreRate!,
    bentoStore: bentoStoreRate!,
    rawLoad: rawLoadRate!,
    tierkvLoad: tierkvLoadRate!,
    plainLoad: plainLoadRate!,
    tierkvLookupLoad: lookupLoadRate!,
    bentoLoad: bentoLoadRate!,
  };
  return f;
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  if (!clients) await setup();
  const c = clients!;
  const out: BenchMeasurement[] = [];
  const sizes = ctx.quick ? ([[1 * MIB, '1 MiB']] as const) : ([[256 * KIB, '256 KiB'], [1 * MIB, '1 MiB']] as const);
  for (const [size, label] of sizes) {
    const f = await measureSize(ctx, c, size);
    const note = `batches of ${BATCH} over ${OBJECTS} objects, loopback redis-server`;
    const rawStore = `ioredis pipelined SET ${label} (raw)`;
    const rawLoad = `ioredis pipelined GET + copy ${label} (raw)`;
    out.push({ subject: rawStore, value: f.rawStore, unit: 'B/s', note });
    out.push({ subject: `ioredis SET per key, no Pipeline object ${label} (raw)`, value: f.rawDirectStore, unit: 'B/s', reference: rawStore, note: 'the write path the adapter uses' });
    out.push({ subject: `tierkv RedisL2Adapter store ${label}`, value: f.tierkvStore, unit: 'B/s', reference: rawStore, goal: 1.0, note: 'XXH3-64 of every payload' });
    out.push({ subject: `tierkv RedisL2Adapter store ${label}, checksum 'none'`, value: f.plainStore, unit: 'B/s', reference: rawStore, note: 'length and key checks only' });
    out.push({ subject: `bentocache redis L2 set ${label} (base64)`, value: f.bentoStore, unit: 'B/s', reference: rawStore, note: 'bentocache stores strings only' });
    out.push({ subject: rawLoad, value: f.rawLoad, unit: 'B/s', note });
    out.push({ subject: `tierkv RedisL2Adapter load ${label}`, value: f.tierkvLoad, unit: 'B/s', reference: rawLoad, goal: 1.0, note: 'every payload verified (XXH3-64)' });
    out.push({ subject: `tierkv RedisL2Adapter load ${label}, checksum 'none'`, value: f.plainLoad, unit: 'B/s', reference: rawLoad, note: 'length and key checks only' });
    out.push({ subject: `tierkv RedisL2Adapter lookup+load+unlock ${label}`, value: f.tierkvLookupLoad, unit: 'B/s', reference: rawLoad, note: 'one more round trip (TOUCH) than a bare load' });
    out.push({ subject: `bentocache redis L2 get ${label} (base64)`, value: f.bentoLoad, unit: 'B/s', reference: rawLoad, note: 'bentocache stores strings only' });
  }
  return out;
}

export const redisL2Scenario: BenchScenario = {
  name: 'redis.l2',
  description: 'Redis L2 store/load through RedisL2Adapter vs raw ioredis pipelines and bentocache\'s Redis tier, same bytes',
  peers: ['ioredis 5', 'bentocache 1.6'],
  requires: ['redis-server'],
  setup,
  run,
  teardown,
};
