import { debugLogger, encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import { Semaphore } from '../l2/semaphore.js';
import { PrefetchTask } from './prefetch-handle.js';
import type { PrefetchLocks } from './prefetch-locks.js';
import { reserveInOrder } from './reserve-in-order.js';
import type { ResolvedStorageManagerOptions } from './storage-options.js';
import type { StorageMetrics } from './storage-metrics.js';

const log = debugLogger('tierkv:storage');

/** Prefix keys (indices into the L2 phase, ascending) held by one tier, loaded by one L2 call. */
interface LoadBatch {
  readonly tier: number;
  readonly indices: number[];
}

// tierOf values besides an L2 tier index.
const MISSING = -1;
const IN_L1 = -2;

/**
 * Makes the contiguous prefix of a key list ready in L1 and read-locked (after LMCache's prefetch
 * controller): L1 hits are locked at once; the rest of the prefix is looked up in the L2 tiers in
 * order (pinning what they hold), reserved in L1, and loaded with at most `maxInFlight` keys in
 * flight across the manager. Only the contiguous prefix counts: a gap, a failed reservation or a
 * failed (or corrupt) load ends it there, and everything beyond is released: L1 reservations
 * aborted, L2 pins dropped, objects loaded past the end left in L1 unlocked.
 */
export class PrefetchController {
  readonly #l1: L1Manager;
  readonly #adapters: readonly InstrumentedL2Adapter[];
  readonly #options: ResolvedStorageManagerOptions;
  readonly #metrics: StorageMetrics;
  readonly #locks: PrefetchLocks;
  readonly #loads: Semaphore;
  readonly #active = new Set<PrefetchTask>();
  // Keys some prefetch is loading into L1 right now: a concurrent prefetch of the same key waits
  // for that load instead of failing to reserve a key that is write-locked.
  readonly #loading = new Map<EncodedKey, Promise<void>>();
  #nextId = 1;

  constructor(
    l1: L1Manager,
    adapters: readonly InstrumentedL2Adapter[],
    options: ResolvedStorageManagerOptions,
    metrics: StorageMetrics,
    locks: PrefetchLocks,
  ) {
    this.#l1 = l1;
    this.#adapters = adapters;
    this.#options = options;
    this.#metrics = metrics;
    this.#locks = locks;
    this.#loads = new Semaphore(options.maxInFlight);
  }

  get active(): number {
    return this.#active.size;
  }

  /** Resolves when every prefetch submitted so far has settled. */
  async drain(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active].map((t) => t.done));
  }

  /** Starts a prefetch. L1 hits are locked synchronously; the task settles at once when L2 has nothing to add. */
  submit(keys: readonly ObjectKey[], layout: MemoryLayout, onSettled: (task: PrefetchTask) => void, readers = 1): PrefetchTask {
    const task = new PrefetchTask(this.#nextId++, [...keys], performance.now(), readers);
    this.#metrics.lookupRequests++;
    this.#metrics.lookupRequestedChunks += keys.length;

    const present = this.#l1.contains(keys);
    let p = 0;
    while (p < keys.length && present[p]) p++;
    // An L1 object stored with another layout ends the prefix: it is neither a hit nor worth an L2 load.
    let wrongLayout = false;
    if (p > 0) {
      const results = this.#l1.reserveRead(keys.slice(0, p), readers);
      let locked = 0;
      while (locked < p && results[locked]!.code === 'SUCCESS' && fits(results[locked]!.obj!, layout)) locked++;
      wrongLayout = locked < p && results[locked]!.code === 'SUCCESS';
      const beyond = results.slice(locked).flatMap((r, i) => (r.code === 'SUCCESS' ? [keys[locked + i]!] : []));
      if (beyond.length > 0) this.#l1.finishRead(beyond, readers);
      for (let i = 0; i < locked; i++) this.#locks.add(results[i]!.obj!, readers);
      p = locked;
    }
    task.l1Hits = p;
    if (wrongLayout) {
      if (log.enabled) log('prefetch %d: key %d is in L1 with another layout than %s: prefix ends there', task.id, p, layout.toString());
    }

    if (wrongLayout || p === keys.length || this.#adapters.length === 0) {
      this.#finish(task, onSettled);
      return task;
    }
    this.#active.add(task);
    void this.#fromL2(task, keys.slice(p), layout)
      .catch((err: unknown) => {
        // Reached only if L1 itself failed mid-way (closed): the L2 part counts as a miss.
        if (log.enabled) log('prefetch %d: L2 phase aborted: %s', task.id, String(err));
        task.l2Hits = 0;
      })
      .finally(() => {
        this.#active.delete(task);
        this.#finish(task, onSettled);
      });
    return task;
  }

  #finish(task: PrefetchTask, onSettled: (task: PrefetchTask) => void): void {
    task.settle();
    this.#metrics.lookupHitChunksL1 += task.l1Hits;
    this.#metrics.lookupHitChunksL2 += task.l2Hits;
    this.#metrics.recordPrefetchDuration((performance.now() - task.startedAt) / 1000);
    onSettled(task);
  }

  async #fromL2(task: PrefetchTask, rest: ObjectKey[], layout: MemoryLayout): Promise<void> {
    // 1. Where each key is: L1 (past the first L1 gap a key may still be in L1), else the first L2
    //    tier that holds it; every L2 hit is pinned in its tier.
    const tierOf: number[] = this.#l1.contains(rest).map((c) => (c ? IN_L1 : MISSING));
    for (let t = 0; t < this.#adapters.length; t++) {
      const idx: number[] = [];
      for (let i = 0; i < rest.length; i++) if (tierOf[i] === MISSING) idx.push(i);
      if (idx.length === 0) break;
      const found = await this.#adapters[t]!.lookupAndLock(idx.map((i) => rest[i]!)).catch(() => idx.map(() => false));
      idx.forEach((i, j) => {
        if (found[j]) tierOf[i] = t;
      });
    }
    let q = 0;
    while (q < rest.length && tierOf[q] !== MISSING) q++;
    await this.#unpin(rest, tierOf, q, rest.length);
    if (q === 0) return;

    // 2. Synchronously (L1 may have changed while we awaited): read-lock what L1 holds now, reserve
    //    L1 memory for the rest (what fits, in order). The prefix ends at the first key that gets neither.
    const now = this.#l1.contains(rest.slice(0, q));
    const readIdx: number[] = [];
    const writeIdx: number[] = [];
    const waitIdx: number[] = []; // being loaded by another prefetch: wait for it, then read-lock
    const waitFor = new Map<number, Promise<void>>();
    for (let i = 0; i < q; i++) {
      const other = now[i] ? undefined : this.#loading.get(encodeKey(rest[i]!));
      if (now[i]) readIdx.push(i);
      else if (other) {
        waitIdx.push(i);
        waitFor.set(i, other);
      } else if (tierOf[i]! >= 0) writeIdx.push(i);
    }
    const ready: (MemoryObj | undefined)[] = new Array(q);
    const reservedObj: (MemoryObj | undefined)[] = new Array(q);
    const readRes = readIdx.length > 0 ? this.#l1.reserveRead(readIdx.map((i) => rest[i]!), task.readers) : [];
    const mismatched: ObjectKey[] = [];
    readIdx.forEach((i, j) => {
      const res = readRes[j]!;
      if (res.code !== 'SUCCESS') return;
      if (fits(res.obj!, layout)) ready[i] = res.obj;
      else mismatched.push(rest[i]!); // another layout: the prefix ends here (below)
    });
    if (mismatched.length > 0) this.#l1.finishRead(mismatched, task.readers);
    const writeRes = writeIdx.length > 0 ? reserveInOrder(this.#l1, writeIdx.map((i) => rest[i]!), layout, 'new', { temporary: false }) : [];
    writeIdx.forEach((i, j) => {
      if (writeRes[j]!.code === 'SUCCESS') reservedObj[i] = writeRes[j]!.obj;
    });
    const mine = new Map<number, Deferred>();
    for (const i of writeIdx) {
      if (!reservedObj[i]) continue;
      const d = deferred();
      mine.set(i, d);
      this.#loading.set(encodeKey(rest[i]!), d.promise);
    }
    // Our load of key i is over (ready, failed or given up): wake the prefetches waiting for it.
    const settle = (i: number): void => {
      const d = mine.get(i);
      if (!d) return;
      mine.delete(i);
      const k = encodeKey(rest[i]!);
      if (this.#loading.get(k) === d.promise) this.#loading.delete(k);
      d.resolve();
    };
    const waiting = new Set(waitIdx);
    let r = 0;
    while (r < q && (ready[r] || reservedObj[r] || waiting.has(r))) r++;
    try {
      await this.#loadAndWait(task, rest, tierOf, layout, { r, q, readIdx, writeIdx, waitIdx, waitFor, ready, reservedObj, settle });
    } finally {
      for (const i of mine.keys()) settle(i);
    }
  }

  async #loadAndWait(
    task: PrefetchTask,
    rest: ObjectKey[],
    tierOf: number[],
    layout: MemoryLayout,
    st: {
      r: number;
      q: number;
      readIdx: number[];
      writeIdx: number[];
      waitIdx: number[];
      waitFor: Map<number, Promise<void>>;
      ready: (MemoryObj | undefined)[];
      reservedObj: (MemoryObj | undefined)[];
      settle: (i: number) => void;
    },
  ): Promise<void> {
    const { r, q, readIdx, writeIdx, waitIdx, waitFor, ready, reservedObj, settle } = st;
    const dropRead = readIdx.filter((i) => i >= r && ready[i]);
    const dropWrite = writeIdx.filter((i) => i >= r && reservedObj[i]);
    if (dropRead.length > 0) this.#l1.finishRead(dropRead.map((i) => rest[i]!), task.readers);
    if (dropWrite.length > 0) this.#l1.abortWrite(dropWrite.map((i) => rest[i]!));
    for (const i of dropWrite) settle(i);
    // Pins no longer needed: everything past the prefix, and L2 copies of keys L1 holds or another prefetch loads.
    const waiting = new Set(waitIdx);
    await this.#unpin(rest, tierOf, r, q);
    await this.#unpinWhere(rest, tierOf, (i) => i < r && (ready[i] !== undefined || waiting.has(i)));
    if (r === 0) return;

    // 3. Load in runs of one tier, at most loadBatchSize keys per call and maxInFlight keys in flight.
    const batches: LoadBatch[] = [];
    let cur: LoadBatch | undefined;
    for (const i of writeIdx) {
      if (i >= r) break;
      const tier = tierOf[i]!;
      if (!cur || cur.tier !== tier || cur.indices.length >= this.#options.loadBatchSize) {
        cur = { tier, indices: [] };
        batches.push(cur);
      }
      cur.indices.push(i);
    }
    let end = r; // first index that is not ready (only decreases)
    await Promise.all([
      ...batches.map((b) =>
        this.#loads.run(async () => {
          const adapter = this.#adapters[b.tier]!;
          const bKeys = b.indices.map((i) => rest[i]!);
          if (b.indices[0]! >= end) {
            // The prefix already ended before this run: do not load it at all.
            this.#l1.abortWrite(bKeys);
            for (const i of b.indices) settle(i);
            await adapter.unlock(bKeys).catch(() => undefined);
            return;
          }
          const ok = await adapter.load(bKeys, b.indices.map((i) => reservedObj[i]!.data)).catch(() => bKeys.map(() => false));
          await adapter.unlock(bKeys).catch(() => undefined);
          const good = b.indices.filter((_, j) => ok[j]);
          const bad = b.indices.filter((_, j) => !ok[j]);
          if (bad.length > 0) {
            this.#l1.abortWrite(bad.map((i) => rest[i]!));
            end = Math.min(end, bad[0]!);
          }
          if (good.length > 0) {
            const locked = this.#l1.finishWriteAndReserveRead(good.map((i) => rest[i]!), task.readers);
            good.forEach((i, j) => {
              const res = locked[j]!;
              if (res.code === 'SUCCESS' && res.obj) ready[i] = res.obj;
              else end = Math.min(end, i);
            });
          }
          for (const i of b.indices) settle(i);
        }, b.indices.length),
      ),
      ...waitIdx
        .filter((i) => i < r)
        .map(async (i) => {
          await waitFor.get(i);
          if (i >= end) return;
          const [res] = this.#l1.reserveRead([rest[i]!], task.readers);
          if (res!.code === 'SUCCESS' && res!.obj && fits(res!.obj, layout)) ready[i] = res!.obj;
          else {
            // The other prefetch loaded it with another layout: not ours to hand out.
            if (res!.code === 'SUCCESS') this.#l1.finishRead([rest[i]!], task.readers);
            end = Math.min(end, i);
          }
        }),
    ]);

    // 4. Keep the locks of the prefix; release objects past its end (they stay cached in L1).
    const beyond: ObjectKey[] = [];
    let fromL1 = 0;
    for (let i = 0; i < r; i++) {
      const obj = ready[i];
      if (!obj) continue;
      if (i < end) {
        this.#locks.add(obj, task.readers);
        if (tierOf[i] === IN_L1 || readIdx.includes(i)) fromL1++;
      } else beyond.push(obj.key);
    }
    if (beyond.length > 0) this.#l1.finishRead(beyond, task.readers);
    task.l1Hits += fromL1;
    task.l2Hits = end - fromL1;
  }

  /** Drops the L2 pins of the keys whose index satisfies `pick`. */
  async #unpinWhere(rest: ObjectKey[], tierOf: number[], pick: (i: number) => boolean): Promise<void> {
    const byTier = new Map<number, ObjectKey[]>();
    for (let i = 0; i < rest.length; i++) {
      const t = tierOf[i]!;
      if (t < 0 || !pick(i)) continue;
      let list = byTier.get(t);
      if (!list) byTier.set(t, (list = []));
      list.push(rest[i]!);
    }
    await Promise.all([...byTier].map(([t, keys]) => this.#adapters[t]!.unlock(keys).catch(() => undefined)));
  }

  /** Drops the L2 pins of rest[from..to). */
  #unpin(rest: ObjectKey[], tierOf: number[], from: number, to: number): Promise<void> {
    return this.#unpinWhere(rest, tierOf, (i) => i >= from && i < to);
  }
}

/** Whether an L1 object can serve a request for `layout` (same shapes and dtypes, not only the same size). */
function fits(obj: MemoryObj, layout: MemoryLayout): boolean {
  return obj.layout.equals(layout);
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
