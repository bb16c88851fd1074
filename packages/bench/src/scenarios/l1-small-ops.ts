import { metrics } from '@opentelemetry/api';
import { MemoryLayout, type EncodedKey, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import { L1Manager, type MemoryObj } from '@tierkv/storage';
import { LRUCache } from 'lru-cache';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { benchKeys, encodedKeys, scatteredOrder } from '../support/bench-keys.js';
import { expectSuccess } from '../support/check.js';
import { meterProviderWithReader } from '../support/manual-reader.js';
import { QUICK_BUDGET_MS, rate } from '../timing.js';

/** Bytes per object: a small value, where per-operation bookkeeping dominates the copy. */
const VALUE_BYTES = 64;
/** Operations between two clock reads. */
const ROUND_OPS = 1000;
/** Live keys in the peer comparison. */
const WORKING_SET = 10_000;

/** One cache under test, driven through the same two loops. */
interface Subject {
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
    get: (i) => lru.get(keys[i]!)![0]!,
    replace(fresh) {
      lru.set(keys[fresh]!, src.slice());
    },
    close: () => lru.clear(),
  };
}

/**
 * tierkv L1 with single-key calls (the worst case for a batched API): a get is
 * reserveRead → read a byte → finishRead; a replace is delete, reserveWrite, fill, finishWrite.
 */
function l1Subject(keys: readonly ObjectKey[], live: number, telemetry: TelemetryOptions): Subject {
  // Twice the live bytes: the watermark evictor (80%) never runs, so every op does the same work.
  const options = { capacityBytes: Math.max(2 * live * VALUE_BYTES, 1 << 20), alignBytes: VALUE_BYTES, lockSweepIntervalMs: 0 };
  const l1 = new L1Manager(options, telemetry);
  const layout = MemoryLayout.bytes(VALUE_BYTES);
  const single: ObjectKey[][] = keys.map((k) => [k]);
  const write = (i: number): void => {
    const r = l1.reserveWrite(single[i]!, layout);
    expectSuccess('reserveWrite', r);
    (r[0]!.obj as MemoryObj).data.set(src);
    expectSuccess('finishWrite', l1.finishWrite(single[i]!));
  };
  for (let i = 0; i < live; i++) write(i);
  return {
    get(i) {
      const r = l1.reserveRead(single[i]!);
      const obj = r[0]!.obj;
      if (obj === undefined) throw new Error(`reserveRead answered ${r[0]!.code}`);
      const byte = obj.data[0]!;
      l1.finishRead(single[i]!);
      return byte;
    },
    replace(fresh, old) {
      expectSuccess('delete', l1.delete(single[old]!));
      write(fresh);
    },
    close: () => l1.close(),
  };
}

/** get ops/s over the live keys in a scattered order. */
function getRate(budget: number, subject: Subject, live: number): number {
  const order = scatteredOrder(live);
  let pos = 0;
  let sink = 0;
  const ops = rate(budget, () => {
    for (let n = 0; n < ROUND_OPS; n++) {
      sink += subject.get(order[pos]!);
      pos = pos + 1 === live ? 0 : pos + 1;
    }
    return ROUND_OPS;
  });
  if (sink === 0) throw new Error('get read no data');
  return ops;
}

/** Steady-state replace ops/s: key s+live comes in, key s goes out, over a pool of 2×live keys. */
function replaceRate(budget: number, subject: Subject, live: number): number {
  const pool = 2 * live;
  let s = cursors.get(subject) ?? 0;
  const ops = rate(budget, () => {
    for (let n = 0; n < ROUND_OPS; n++) {
      subject.replace((s + live) % pool, s);
      s = s + 1 === pool ? 0 : s + 1;
    }
    return ROUND_OPS;
  });
  cursors.set(subject, s);
  return ops;
}

/** Where each subject's replace loop stopped: its live keys are pool[s, s + live). */
const cursors = new WeakMap<Subject, number>();

function measure(budget: number, make: () => Subject, live: number): { get: number; set: number } {
  const subject = make();
  try {
    const get = getRate(budget, subject, live);
    const set = replaceRate(budget, subject, live);
    return { get, set };
  } finally {
    subject.close();
  }
}

/** Slices per subject when two subjects are compared closely (an effect of a few percent). */
const SLICES = 6;

/**
 * Measures several subjects in alternating short slices, so that a machine that speeds up or
 * slows down during the run affects them alike.
 */
function measureInterleaved(budget: number, makers: readonly (() => Subject)[], live: number): { get: number; set: number }[] {
  const subjects = makers.map((make) => make());
  try {
    const sums = subjects.map(() => ({ get: 0, set: 0 }));
    for (const op of ['get', 'set'] as const) {
      for (let slice = 0; slice < SLICES; slice++) {
        subjects.forEach((subject, i) => {
          sums[i]![op] += op === 'get' ? getRate(budget / SLICES, subject, live) : replaceRate(budget / SLICES, subject, live);
        });
      }
    }
    return sums.map((s) => ({ get: s.get / SLICES, set: s.set / SLICES }));
  } finally {
    for (const subject of subjects) subject.close();
  }
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

  const map = measure(budget, () => mapSubject(encoded, live), live);
  const lru = measure(budget, () => lruSubject(encoded, live), live);
  const sdk = meterProviderWithReader();
  let bare;
  let instrumented;
  try {
    [bare, instrumented] = measureInterleaved(budget, [() => l1Subject(keys, live, {}), () => l1Subject(keys, live, { meterProvider: sdk.meterProvider })], live);
    if ((await sdk.collect()) === 0) throw new Error('the SDK reader collected no L1 metrics');
  } finally {
    await sdk.shutdown();
  }
  for (const op of ['get', 'set'] as const) {
    const what = op === 'get' ? 'get' : 'set (replace)';
    const lruName = `lru-cache ${what}`;
    const bareName = `tierkv L1 ${what}, no SDK`;
    out.push({ subject: `Map ${what}`, value: map[op], unit: 'ops/s', note });
    out.push({ subject: lruName, value: lru[op], unit: 'ops/s' });
    out.push({ subject: bareName, value: bare[op], unit: 'ops/s', reference: lruName });
    // Instrumentation goal: ≤ 5% slower with an SDK reader attached.
    out.push({ subject: `tierkv L1 ${what}, SDK reader`, value: instrumented[op], unit: 'ops/s', reference: bareName, goal: 0.95 });
  }

  // Growth: the same get and replace loops at 1k / 100k / 1M live objects.
  const sizes = ctx.quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000];
  const label = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  const base = sizes[0]!;
  for (const n of sizes) {
    const growthKeys = benchKeys(2 * n);
    const r = measure(budget, () => l1Subject(growthKeys, n, {}), n);
    const ref = n === base ? {} : { reference: `tierkv L1 get @ ${label(base)} objects` };
    const refSet = n === base ? {} : { reference: `tierkv L1 set @ ${label(base)} objects` };
    out.push({ subject: `tierkv L1 get @ ${label(n)} objects`, value: r.get, unit: 'ops/s', ...ref });
    out.push({ subject: `tierkv L1 set @ ${label(n)} objects`, value: r.set, unit: 'ops/s', ...refSet });
  }
  return out;
}

export const l1SmallOpsScenario: BenchScenario = {
  name: 'l1.small-ops',
  description: 'small-object L1 get/set per second vs lru-cache and a Map; with and without an SDK reader; growth to 1M objects',
  peers: ['lru-cache', '@opentelemetry/sdk-metrics'],
  run,
};
