import { MemoryLayout, type ObjectKey } from '@tierkv/core';
import { L1Manager, type MemoryObj } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { benchKeys } from '../support/bench-keys.js';
import { expectSuccess } from '../support/check.js';
import { interleave, QUICK_BUDGET_MS } from '../timing.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Keys per L1 call: one request's chunks, as a storage server would batch them. */
const BATCH = 8;
/** The share of the arena the ring of live objects occupies, below the eviction watermark. */
const RING_SHARE = 0.5;

/** One side of the comparison: a round moves BATCH chunks in and out and returns the bytes. */
interface Side {
  round(): number;
  /** Throws if the bytes read back are not the bytes written. */
  verify(): void;
  close(): void;
}

function pattern(len: number, seed: number): Uint8Array {
  const a = new Uint8Array(len);
  for (let i = 0; i < len; i++) a[i] = (i * 31 + seed) & 0xff;
  return a;
}

/**
 * The limit: the same copies, into and out of the very memory the L1's objects occupy (their
 * views as of the first lap), over the same ring, with no bookkeeping at all. Two identical
 * arenas allocated side by side in one process measured up to 1.25× apart, the same in every
 * repetition (where the pages land), so the limit copies into the L1's own pages rather than an
 * arena of its own.
 */
function limitSide(views: readonly Uint8Array[], size: number, src: Uint8Array, dst: Uint8Array): Side {
  let first = 0;
  const round = (): number => {
    for (let b = 0; b < BATCH; b++) views[first + b]!.set(src);
    for (let b = 0; b < BATCH; b++) dst.set(views[first + b]!);
    first = first + BATCH === views.length ? 0 : first + BATCH;
    return BATCH * size;
  };
  return {
    round,
    verify() {
      if (dst[size - 1] !== src[size - 1] || dst[0] !== src[0]) throw new Error('reference copy lost data');
    },
    close() {},
  };
}

/**
 * tierkv L1: per batch, delete the ring slot's previous occupants, reserveWrite, fill each object
 * in place with `data.set(src)`, finishWrite, reserveRead, copy each object out, finishRead.
 */
function l1Side(capacity: number, size: number, ring: number, src: Uint8Array, dst: Uint8Array): Side & { readonly views: Uint8Array[] } {
  // No background lock sweep: nothing here holds a lock past its batch.
  const options = { capacityBytes: capacity, lockSweepIntervalMs: 0 };
  const l1 = new L1Manager(options);
  const layout = MemoryLayout.bytes(size);
  const keys = benchKeys(ring);
  const batches: ObjectKey[][] = [];
  for (let i = 0; i + BATCH <= ring; i += BATCH) batches.push(keys.slice(i, i + BATCH));
  let next = 0;
  let primed = false;
  const views: Uint8Array[] = [];
  const round = (): number => {
    const batch = batches[next]!;
    next = next + 1 === batches.length ? 0 : next + 1;
    if (primed) expectSuccess('delete', l1.delete(batch));
    const written = l1.reserveWrite(batch, layout);
    expectSuccess('reserveWrite', written);
    for (let b = 0; b < BATCH; b++) (written[b]!.obj as MemoryObj).data.set(src);
    if (!primed) for (let b = 0; b < BATCH; b++) views.push((written[b]!.obj as MemoryObj).data);
    expectSuccess('finishWrite', l1.finishWrite(batch));
    const read = l1.reserveRead(batch);
    expectSuccess('reserveRead', read);
    for (let b = 0; b < BATCH; b++) dst.set((read[b]!.obj as MemoryObj).data);
    expectSuccess('finishRead', l1.finishRead(batch));
    return BATCH * size;
  };
  for (let i = 0; i < batches.length; i++) round(); // first lap touches the arena; nothing to delete yet
  primed = true;
  return {
    round,
    views,
    verify() {
      if (dst[size - 1] !== src[size - 1] || dst[0] !== src[0]) throw new Error('L1 read returned other bytes than were written');
      const check = l1.memcheck();
      if (!check.ok) throw new Error(`L1 memcheck failed: ${check.problems.join('; ')}`);
    },
    close: () => l1.close(),
  };
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  const capacity = ctx.quick ? 64 * MIB : 512 * MIB;
  const out: BenchMeasurement[] = [];
  for (const [size, label] of [
    [256 * KIB, '256 KiB'],
    [1 * MIB, '1 MiB'],
  ] as const) {
    const ring = Math.floor((capacity * RING_SHARE) / size / BATCH) * BATCH;
    const src = pattern(size, 7);
    const dst = new Uint8Array(size);
    const l1 = l1Side(capacity, size, ring, src, dst);
    const limit = limitSide(l1.views, size, src, dst);
    try {
      const [limitRate, l1Rate] = interleave(budget, [limit.round, l1.round]);
      limit.verify();
      l1.verify();
      const limitName = `Uint8Array.set in+out ${label} (limit)`;
      const note = `${ring} live objects in a ${capacity / MIB} MiB arena, batches of ${BATCH}`;
      out.push({ subject: limitName, value: limitRate!, unit: 'B/s', note });
      out.push({ subject: `tierkv L1 write+read ${label}`, value: l1Rate!, unit: 'B/s', reference: limitName, goal: 0.9 });
    } finally {
      limit.close();
      l1.close();
    }
  }
  return out;
}

export const l1BandwidthScenario: BenchScenario = {
  name: 'l1.bandwidth',
  description: 'L1 write+read of 256 KiB and 1 MiB chunks vs raw Uint8Array.set into and out of the same pages',
  run,
};
