import { metrics } from '@opentelemetry/api';
import { MemoryLayout, type EncodedKey, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import { L1Manager } from '@tierkv/storage';
import { LRUCache } from 'lru-cache';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { benchKeys, encodedKeys, scatteredOrder } from '../support/bench-keys.js';
import { expectSuccess } from '../support/check.js';
import { meterProviderWithReader } from '../support/manual-reader.js';
import { interleaveAsync, QUICK_BUDGET_MS } from '../timing.js';

/** Bytes per object: a small value, where per-operation bookkeeping dominates the copy. */
const VALUE_BYTES = 64;
/** Operations between two clock reads. */
const ROUND_OPS = 1000;
/** Live keys in the peer comparison. */
const WORKING_SET = 10_000;

/**
 * One cache under test with `live` keys out of a pool of 2×live: the live ones are
 * pool[cursor, cursor + live) (mod pool), so get and replace loops can alternate forever.
 */
interface Subject {
  readonly live: number;
  /** Looks up key i and reads one byte of its value. */
  get(i: number): number;
  /** Inserts key `fresh` and drops key `old` (lru-cache drops its least recently used itself). */
  replace(fresh: number, old: number): void;
  close(): void;
}

const src = new Uint8Array(VALUE_BYTES).fill(0x5a);

function mapSubject(keys: readonly EncodedKey[], live: number): Subject {
  const map = new Map<string, Uint8Array>();
  for (let i = 0; i < live; i++) map.set(keys[i]!, src.slice());
  return {
    live,
    get: (i) => map.get(keys[i]!)![0]!,
    replace(fresh, old) {
      map.delete(keys[old]!);
      map.set(keys[fresh]!, src.slice());
    },
    close: () => map.clear(),
  };
}

function lruSubject(keys: readonly EncodedKey[], live: number): Subject {
  const lru = new LRUCache<string, Uint8Array>({ max: live });
  for (let i = 0; i < live; i++) lru.set(keys[i]!, src.slice());
  return {
    live,
    get: (i) => lru.get(keys[i]!)![0]!,
    replace(fresh) {
      lru.set(keys[fresh]!, src.slice());
    },
    close: () => lru.clear(),
  };
}

/**
 * tierkv L1 with its single-key calls: a get is reserveReadOne → read a byte → finishReadOne; a
 * replace is deleteOne, reserveWriteOne, fill, finishWriteOne. The module records what it always
 * records (per-call counters; durations and chunk histograms when an SDK listens).
 */
function l1Subject(keys: readonly ObjectKey[], live: number, telemetry: TelemetryOptions): Subject {
  // Twice the live bytes: the watermark evictor (80%) never runs, so every op does the same work.
  const options = { capacityBytes: Math.max(2 * live * VALUE_BYTES, 1 << 20), alignBytes: VALUE_BYTES, lockSweepIntervalMs: 0 };
  const l1 = new L1Manager(options, telemetry);
  const layout = MemoryLayout.bytes(VALUE_BYTES);
  const write = (i: number): void => {
    const r = l1.reserveWriteOne(keys[i]!, layout);
    if (r.obj === undefined) throw new Error(`reserveWriteOne answered ${r.code}`);
    r.obj.data.set(src);
    expectSuccess('finishWriteOne', [l1.finishWriteOne(keys[i]!)]);
  };
  for (let i = 0; i < live; i++) write(i);
  return {
    live,
    get(i) {
      const r = l1.reserveReadOne(keys[i]!);
      const obj = r.obj;
      if (obj === undefined) throw new Error(`reserveReadOne answered ${r.code}`);
      const byte = obj.data[0]!;
      l1.finishReadOne(keys[i]!);
      return byte;
    },
    replace(fresh, old) {
      if (l1.deleteOne(keys[old]!).code !== 'SUCCESS') throw new Error('deleteOne failed');
      write(fresh);
    },
    close: () => {
      const check = l1.memcheck();
      l1.close();
      if (!check.ok) throw new Error(`L1 memcheck failed: ${check.problems.join('; ')}`);
    },
  };
}

/** Where each subject's replace loop stands. */
const cursors = new WeakMap<Subject, number>();
const orders = new Map<number, Uint32Array>();

/** A round of ROUND_OPS gets over the live keys, in a scattered order. */
function getRound(subject: Subject): () => number {
  const live = subject.live;
  const pool = 2 * live;
  let order = orders.get(live);
  if (!order) orders.set(live, (order = scatteredOrder(live)));
  let pos = 0;
  return () => {
    const base = cursors.get(subject) ?? 0;
    let sink = 0;
    for (let n = 0; n < ROUND_OPS; n++) {
      sink += subject.get((base + order[pos]!) % pool);
      pos = pos + 1 === live ? 0 : pos + 1;
    }
    if (sink === 0) throw new Error('get read no data');
    return ROUND_OPS;
  };
}

/** A round of ROUND_OPS steady-state replaces: key s+live comes in, key s goes out. */
function replaceRound(subject: Subject): () => number {
  const live = subject.live;
  const pool = 2 * live;
  return () => {
    let s = cursors.get(subject) ?? 0;
    for (let n = 0; n < ROUND_OPS; n++) {
      subject.replace((s + live) % pool, s);
      s = s + 1 === pool ? 0 : s + 1;
    }
    cursors.set(subject, s);
    return ROUND_OPS;
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Each round ends with a turn of the event loop, as a server's request handling would: timers
 * then fire between rounds (L1's batch-duration sampling re-arms on a 1 ms timer), so an attached
 * SDK costs here what it would cost in a service, not less. The turn costs every subject alike.
 */
const yielding =
  (round: () => number) =>
  async (): Promise<number> => {
    const n = round();
    await turn();
    return n;
  };

/** get and replace rates of several subjects, each measured in alternating slices. */
async function measure(budget: number, subjects: readonly Subject[]): Promise<{ get: number; set: number }[]> {
  const gets = await interleaveAsync(budget, subjects.map((s) => yielding(getRound(s))));
  const sets = await interleaveAsync(budget, subjects.map((s) => yielding(replaceRound(s))));
  return subjects.map((_, i) => ({ get: gets[i]!, set: sets[i]! }));
}

const label = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);

/**
 * The growth subjects are filled once (1M single-key inserts take seconds) and reused by every
 * repetition. A Map of the same size beside each L1 shows what the machine's memory latency alone
 * costs when the working set outgrows the CPU caches.
 */
let growth: { sizes: number[]; l1s: Subject[]; maps: Subject[] } | undefined;

async function setup(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000];
  const l1s: Subject[] = [];
  const maps: Subject[] = [];
  growth = { sizes, l1s, maps };
  for (const n of sizes) {
    ctx.log(`filling an L1 and a Map with ${label(n)} objects`);
    const keys = benchKeys(2 * n);
    l1s.push(l1Subject(keys, n, {}));
    maps.push(mapSubject(encodedKeys(keys), n));
  }
}

async function teardown(): Promise<void> {
  const subjects = [...(growth?.l1s ?? []), ...(growth?.maps ?? [])];
  growth = undefined;
  for (const s of subjects) s.close();
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  if (metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider') {
    ctx.log('a global MeterProvider is registered: "no SDK" figures include it');
  }
  const out: BenchMeasurement[] = [];
  const live = WORKING_SET;
  const keys = benchKeys(2 * live);
  const encoded = encodedKeys(keys);
  const note = `${live} live keys, ${VALUE_BYTES} B values, one key per call`;

  const sdk = meterProviderWithReader();
  const subjects = [
    mapSubject(encoded, live),
    lruSubject(encoded, live),
    l1Subject(keys, live, {}),
    l1Subject(keys, live, { meterProvider: sdk.meterProvider }),
  ];
  let figures;
  try {
    figures = await measure(budget, subjects);
    if ((await sdk.collect()) === 0) throw new Error('the SDK reader collected no L1 metrics');
  } finally {
    for (const s of subjects) s.close();
    await sdk.shutdown();
  }
  const [map, lru, bare, instrumented] = figures as [(typeof figures)[0], (typeof figures)[0], (typeof figures)[0], (typeof figures)[0]];
  for (const op of ['get', 'set'] as const) {
    const what = op === 'get' ? 'get' : 'set (replace)';
    const lruName = `lru-cache ${what}`;
    const bareName = `tierkv L1 ${what}, no SDK`;
    out.push({ subject: `Map ${what}`, value: map[op], unit: 'ops/s', note });
    out.push({ subject: lruName, value: lru[op], unit: 'ops/s' });
    // Goal (issue 11): one key at the speed of lru-cache, with the counters L1 always keeps.
    out.push({ subject: bareName, value: bare[op], unit: 'ops/s', reference: lruName, goal: 1.0 });
    // Instrumentation goal: ≤ 5% slower with an SDK reader attached.
    out.push({ subject: `tierkv L1 ${what}, SDK reader`, value: instrumented[op], unit: 'ops/s', reference: bareName, goal: 0.95 });
  }

  // Growth: the same get and replace loops at 1k / 100k / 1M live objects, against the 1k figure.
  if (!growth) await setup(ctx);
  const { sizes, l1s, maps } = growth!;
  const g = await measure(budget, [...l1s, ...maps]);
  const base = label(sizes[0]!);
  for (const [kind, offset] of [
    ['tierkv L1', 0],
    ['Map', sizes.length],
  ] as const) {
    sizes.forEach((n, i) => {
      const f = g[offset + i]!;
      const ref = (op: string) => (i === 0 ? {} : { reference: `${kind} ${op} @ ${base} objects` });
      out.push({ subject: `${kind} get @ ${label(n)} objects`, value: f.get, unit: 'ops/s', ...ref('get') });
      out.push({ subject: `${kind} set @ ${label(n)} objects`, value: f.set, unit: 'ops/s', ...ref('set') });
    });
  }
  return out;
}

export const l1SmallOpsScenario: BenchScenario = {
  name: 'l1.small-ops',
  description: 'small-object L1 get/set per second vs lru-cache and a Map; with and without an SDK reader; growth to 1M objects',
  peers: ['lru-cache', '@opentelemetry/sdk-metrics'],
  setup,
  run,
  teardown,
};
