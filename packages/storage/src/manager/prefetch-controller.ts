import { debugLogger, type MemoryLayout, type ObjectKey } from '@tierkv/core';
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

/** A run of consecutive prefix keys held by one tier, loaded by one L2 call. */
interface LoadBatch {
  readonly tier: number;
  /** Index into the L2 part of the prefix. */
  readonly start: number;
  readonly keys: ObjectKey[];
  readonly objs: MemoryObj[];
}

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
  submit(keys: readonly ObjectKey[], layout: MemoryLayout, onSettled: (task: PrefetchTask) => void): PrefetchTask {
    const task = new PrefetchTask(this.#nextId++, [...keys], performance.now());
    this.#metrics.lookupRequests++;
    this.#metrics.lookupRequestedChunks += keys.length;

    const present = this.#l1.contains(keys);
    let p = 0;
    while (p < keys.length && present[p]) p++;
    if (p > 0) {
      const results = this.#l1.reserveRead(keys.slice(0, p));
      let locked = 0;
      while (locked < p && results[locked]!.code === 'SUCCESS') locked++;
      const beyond = results.slice(locked).flatMap((r, i) => (r.code === 'SUCCESS' ? [keys[locked + i]!] : []));
      if (beyond.length > 0) this.#l1.finishRead(beyond);
      for (let i = 0; i < locked; i++) this.#locks.add(results[i]!.obj!);
      p = locked;
    }
    task.l1Hits = p;

    if (p === keys.length || this.#adapters.length === 0) {
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
    // 1. Which tier holds each key (first tier wins); every hit is pinned in its tier.
    const tierOf = new Array<number>(rest.length).fill(-1);
    for (let t = 0; t < this.#adapters.length; t++) {
      const idx: number[] = [];
      for (let i = 0; i < rest.length; i++) if (tierOf[i] === -1) idx.push(i);
      if (idx.length === 0) break;
      const found = await this.#adapters[t]!.lookupAndLock(idx.map((i) => rest[i]!)).catch(() => idx.map(() => false));
      idx.forEach((i, j) => {
        if (found[j]) tierOf[i] = t;
      });
    }
    let q = 0;
    while (q < rest.length && tierOf[q]! >= 0) q++;
    await this.#unpin(rest, tierOf, q, rest.length);
    if (q === 0) return;

    // 2. Reserve L1 memory for the prefix; the prefix ends at the first key that cannot be reserved.
    const reserved = reserveInOrder(this.#l1, rest.slice(0, q), layout, 'new', { temporary: false });
    let r = 0;
    while (r < q && reserved[r]!.code === 'SUCCESS') r++;
    const extra = reserved.slice(r).flatMap((res, i) => (res.code === 'SUCCESS' ? [rest[r + i]!] : []));
    if (extra.length > 0) this.#l1.abortWrite(extra);
    await this.#unpin(rest, tierOf, r, q);
    if (r === 0) return;

    // 3. Load in runs of one tier, at most loadBatchSize keys per call and maxInFlight keys in flight.
    const batches: LoadBatch[] = [];
    for (let i = 0; i < r; ) {
      const tier = tierOf[i]!;
      const start = i;
      const batchKeys: ObjectKey[] = [];
      const objs: MemoryObj[] = [];
      while (i < r && tierOf[i] === tier && batchKeys.length < this.#options.loadBatchSize) {
        batchKeys.push(rest[i]!);
        objs.push(reserved[i]!.obj!);
        i++;
      }
      batches.push({ tier, start, keys: batchKeys, objs });
    }
    let end = r; // first index that is not ready (only decreases)
    const ready: (MemoryObj | undefined)[] = new Array(r);
    await Promise.all(
      batches.map((b) =>
        this.#loads.run(async () => {
          const adapter = this.#adapters[b.tier]!;
          if (b.start >= end) {
            // The prefix already ended before this run: do not load it at all.
            this.#l1.abortWrite(b.keys);
            await adapter.unlock(b.keys).catch(() => undefined);
            return;
          }
          const ok = await adapter.load(b.keys, b.objs.map((o) => o.data)).catch(() => b.keys.map(() => false));
          await adapter.unlock(b.keys).catch(() => undefined);
          const good = b.keys.filter((_, j) => ok[j]);
          const bad = b.keys.filter((_, j) => !ok[j]);
          if (bad.length > 0) {
            this.#l1.abortWrite(bad);
            end = Math.min(end, b.start + ok.indexOf(false));
          }
          if (good.length > 0) {
            const locked = this.#l1.finishWriteAndReserveRead(good);
            let g = 0;
            b.keys.forEach((_, j) => {
              if (!ok[j]) return;
              const res = locked[g++]!;
              if (res.code === 'SUCCESS' && res.obj) ready[b.start + j] = res.obj;
              else end = Math.min(end, b.start + j);
            });
          }
        }, b.keys.length),
      ),
    );

    // 4. Keep the locks of the prefix; release objects that loaded beyond its end (they stay cached).
    const beyond: ObjectKey[] = [];
    for (let i = 0; i < r; i++) {
      const obj = ready[i];
      if (!obj) continue;
      if (i < end) this.#locks.add(obj);
      else beyond.push(obj.key);
    }
    if (beyond.length > 0) this.#l1.finishRead(beyond);
    task.l2Hits = end;
  }

  /** Drops the L2 pins of rest[from..to). */
  async #unpin(rest: ObjectKey[], tierOf: number[], from: number, to: number): Promise<void> {
    const byTier = new Map<number, ObjectKey[]>();
    for (let i = from; i < to; i++) {
      const t = tierOf[i]!;
      if (t < 0) continue;
      let list = byTier.get(t);
      if (!list) byTier.set(t, (list = []));
      list.push(rest[i]!);
    }
    await Promise.all([...byTier].map(([t, keys]) => this.#adapters[t]!.unlock(keys).catch(() => undefined)));
  }
}
