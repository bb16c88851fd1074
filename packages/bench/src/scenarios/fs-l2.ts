import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsL2Adapter, selectXxh3 } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { batchPlan } from '../support/batch-plan.js';
import { allTrue } from '../support/payload.js';
import { interleaveAsync, QUICK_BUDGET_MS, rate } from '../timing.js';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Keys per L2 call: one request's chunks. */
const BATCH = 16;
/** Distinct objects per size; later rounds overwrite them. */
const OBJECTS = 64;
/** Alternating slices per subject (each still several batches long at full budget). */
const SLICES = 20;

/** The reference: one file per object, written to a temp name and renamed, read with open/read/close. */
class RawFs {
  readonly #dir: string;
  #seq = 0;
  constructor(dir: string) {
    this.#dir = dir;
  }
  #path(i: number): string {
    return join(this.#dir, `obj-${i}`);
  }
  async store(ids: readonly number[], data: readonly Uint8Array[]): Promise<void> {
    await Promise.all(
      ids.map(async (id, j) => {
        const tmp = join(this.#dir, `.tmp-${this.#seq++}`);
        await writeFile(tmp, data[j]!);
        await rename(tmp, this.#path(id));
      }),
    );
  }
  async load(ids: readonly number[], targets: readonly Uint8Array[]): Promise<void> {
    await Promise.all(
      ids.map(async (id, j) => {
        const fh = await open(this.#path(id), 'r');
        try {
          const target = targets[j]!;
          const { bytesRead } = await fh.read(target, 0, target.byteLength, 0);
          if (bytesRead !== target.byteLength) throw new Error(`raw read of obj-${id} returned ${bytesRead} bytes`);
        } finally {
          await fh.close();
        }
      }),
    );
  }
}

interface Figures {
  /** XXH3-64 over the same bytes on the main thread: what hashing every load would cost. */
  xxh3: number;
  hashImplementation: string;
  rawStore: number;
  rawLoad: number;
  fsStore: number;
  fsLoad: number;
  /** The same loads with `verify: 'always'` (every payload hashed). */
  fsLoadAlways: number;
  /** The same loads with `maxOpenFiles: 0` (open + read + close per load, as the reference). */
  fsLoadNoHandles: number;
}

async function measureSize(ctx: BenchContext, size: number, label: string): Promise<Figures> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  const { batches, sources, targets, storeItems, loadKeys } = batchPlan(size, OBJECTS, BATCH);
  const rawDir = join(ctx.tmpDir, `raw-${label}-${ctx.repetition ?? 0}`);
  const fsDir = join(ctx.tmpDir, `fs-${label}-${ctx.repetition ?? 0}`);
  const alwaysDir = join(ctx.tmpDir, `fs-always-${label}-${ctx.repetition ?? 0}`);
  const noHandlesDir = join(ctx.tmpDir, `fs-nohandles-${label}-${ctx.repetition ?? 0}`);
  await mkdir(rawDir, { recursive: true });
  await mkdir(fsDir, { recursive: true });

  const raw = new RawFs(rawDir);
  const adapter = await FsL2Adapter.open({ path: fsDir, capacityBytes: 4 * OBJECTS * size });
  const always = await FsL2Adapter.open({ path: alwaysDir, capacityBytes: 4 * OBJECTS * size, verify: 'always' });
  const noHandles = await FsL2Adapter.open({ path: noHandlesDir, capacityBytes: 4 * OBJECTS * size, maxOpenFiles: 0 });
  try {
    // Store rounds over the ring; every object exists after the first lap, so loads always hit.
    let s = 0;
    const rawStore = (): Promise<number> => raw.store(batches[s++ % batches.length]!, sources).then(() => BATCH * size);
    const fsStore = async (): Promise<number> => {
      allTrue('FsL2Adapter.store', await adapter.store(storeItems[s++ % batches.length]!));
      return BATCH * size;
    };
    let l = 0;
    const rawLoad = (): Promise<number> => raw.load(batches[l++ % batches.length]!, targets).then(() => BATCH * size);
    const loadFrom = (a: FsL2Adapter) => async (): Promise<number> => {
      const ks = loadKeys[l++ % batches.length]!;
      allTrue('FsL2Adapter.lookupAndLock', await a.lookupAndLock(ks));
      try {
        allTrue('FsL2Adapter.load', await a.load(ks, targets));
      } finally {
        await a.unlock(ks);
      }
      return BATCH * size;
    };

    // One untimed lap each: every object exists before the timed rounds (overwrites from then on).
    for (let i = 0; i < batches.length; i++) await rawStore();
    for (let i = 0; i < batches.length; i++) await fsStore();
    // Many short slices: on a shared machine, other processes' bursts then fall on every subject alike.
    const [rawStoreRate, fsStoreRate] = await interleaveAsync(budget, [rawStore, fsStore], SLICES);
    // The variants' objects are written after the store measurement, so their dirty pages do not
    // weigh on it (writeback throttles whichever writer crosses the kernel's threshold).
    for (const items of storeItems) allTrue('FsL2Adapter.store', await always.store(items));
    for (const items of storeItems) allTrue('FsL2Adapter.store', await noHandles.store(items));
    const [rawLoadRate, fsLoadRate, noHandlesRate, alwaysRate] = await interleaveAsync(
      budget,
      [rawLoad, loadFrom(adapter), loadFrom(noHandles), loadFrom(always)],
      SLICES,
    );
    const hasher = await selectXxh3();
    let sink = 0;
    const xxh3 = rate(budget / 2, () => {
      for (const src of sources) sink ^= hasher.digest(src)[0]!;
      return BATCH * size;
    });
    if (sink === 0.5) throw new Error('unreachable');
    const f: Figures = {
      xxh3,
      hashImplementation: hasher.implementation,
      rawStore: rawStoreRate!,
      fsStore: fsStoreRate!,
      rawLoad: rawLoadRate!,
      fsLoad: fsLoadRate!,
      fsLoadAlways: alwaysRate!,
      fsLoadNoHandles: noHandlesRate!,
    };
    // The last load filled targets from the object written with sources[j]: check the bytes.
    for (let j = 0; j < BATCH; j++) {
      if (targets[j]![size - 1] !== sources[j]![size - 1] || targets[j]![0] !== sources[j]![0]) throw new Error(`loaded object ${j} differs from what was stored`);
    }
    return f;
  } finally {
    await adapter.close();
    await always.close();
    await noHandles.close();
    // Full runs write ~0.5 GiB per repetition: do not let it pile up until the end of the run.
    await rm(rawDir, { recursive: true, force: true });
    await rm(fsDir, { recursive: true, force: true });
    await rm(alwaysDir, { recursive: true, force: true });
    await rm(noHandlesDir, { recursive: true, force: true });
  }
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const out: BenchMeasurement[] = [];
  const sizes = ctx.quick ? ([[1 * MIB, '1 MiB']] as const) : ([[256 * KIB, '256 KiB'], [1 * MIB, '1 MiB']] as const);
  for (const [size, label] of sizes) {
    const f = await measureSize(ctx, size, label.replace(' ', ''));
    const note = `batches of ${BATCH} over ${OBJECTS} objects`;
    const rawStore = `fs writeFile+rename ${label} (raw)`;
    const rawLoad = `fs open+read ${label} (raw)`;
    out.push({ subject: rawStore, value: f.rawStore, unit: 'B/s', note });
    out.push({ subject: `tierkv FsL2Adapter store ${label}`, value: f.fsStore, unit: 'B/s', reference: rawStore, goal: 0.9 });
    out.push({ subject: rawLoad, value: f.rawLoad, unit: 'B/s', note });
    out.push({ subject: `tierkv FsL2Adapter lookup+load+unlock ${label}`, value: f.fsLoad, unit: 'B/s', reference: rawLoad, goal: 0.9, note: `the defaults: verify 'once', up to 128 open read handles (the ${OBJECTS} objects fit)` });
    out.push({ subject: `tierkv FsL2Adapter lookup+load+unlock ${label}, maxOpenFiles 0`, value: f.fsLoadNoHandles, unit: 'B/s', reference: rawLoad, note: 'no open handles kept: open + read + close per load, as the reference' });
    out.push({ subject: `tierkv FsL2Adapter lookup+load+unlock ${label}, verify 'always'`, value: f.fsLoadAlways, unit: 'B/s', reference: rawLoad, note: 'every payload hashed (XXH3-64)' });
    out.push({ subject: `XXH3-64 ${label} (${f.hashImplementation})`, value: f.xxh3, unit: 'B/s', note: 'one thread: the hash every store computes and a verifying load checks' });
  }
  return out;
}

export const fsL2Scenario: BenchScenario = {
  name: 'l2.fs',
  description: 'filesystem L2 store/load vs raw fs temp+rename writes and open+read of the same files',
  run,
};
