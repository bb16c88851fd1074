import { debugLogger, type EncodedKey, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import { Semaphore } from '../l2/semaphore.js';
import { PrefetchTask } from './prefetch-handle.js';
import { PrefetchRun, type PrefetchContext } from './prefetch-run.js';
import { holdingsOf, releaseHoldings } from './read-holding.js';
import type { ResolvedStorageManagerOptions } from './storage-options.js';
import type { StorageMetrics } from './storage-metrics.js';

const log = debugLogger('tierkv:storage');

/**
 * Makes the contiguous prefix of a key list ready in L1 and read-locked (after LMCache's prefetch
 * controller): L1 hits are locked at once; the rest is a `PrefetchRun` through the L2 tiers. The
 * read locks of the ready prefix end up in `task.holdings`, with their generations, for whoever
 * owns the prefetch (a lease) to read and release: never anybody else's.
 */
export class PrefetchController {
  readonly #l1: L1Manager;
  readonly #metrics: StorageMetrics;
  readonly #context: PrefetchContext;
  readonly #active = new Set<PrefetchTask>();
  #nextId = 1;

  constructor(
    l1: L1Manager,
    adapters: readonly InstrumentedL2Adapter[],
    options: ResolvedStorageManagerOptions,
    metrics: StorageMetrics,
    isTombstoned: (key: ObjectKey) => boolean,
  ) {
    this.#l1 = l1;
    this.#metrics = metrics;
    this.#context = { l1, adapters, options, loads: new Semaphore(options.maxInFlight), loading: new Map<EncodedKey, Promise<void>>(), isTombstoned };
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
    const task = new PrefetchTask(this.#nextId++, [...keys], this.#metrics.startPrefetch(keys[0]), readers);
    this.#metrics.lookupRequests++;
    this.#metrics.lookupRequestedChunks += keys.length;

    const l1 = this.#l1;
    const present = l1.contains(keys);
    let p = 0;
    while (p < keys.length && present[p]) p++;
    // An L1 object stored with another layout ends the prefix: it is neither a hit nor worth an L2 load.
    let wrongLayout = false;
    if (p > 0) {
      const results = l1.reserveRead(keys.slice(0, p), readers);
      const lockedJ = results.map((_, j) => j).filter((j) => results[j]!.code === 'SUCCESS');
      const holdings = holdingsOf(l1, lockedJ.map((j) => results[j]!.obj!), readers);
      let locked = 0;
      while (locked < p && lockedJ[locked] === locked && holdings[locked]!.obj.layout.equals(layout)) locked++;
      wrongLayout = locked < p && lockedJ[locked] === locked;
      task.holdings = holdings.slice(0, locked);
      releaseHoldings(l1, holdings.slice(locked));
      p = locked;
    }
    task.l1Hits = p;
    if (wrongLayout && log.enabled) log('prefetch %d: key %d is in L1 with another layout than %s: prefix ends there', task.id, p, layout.toString());

    if (wrongLayout || p === keys.length || this.#context.adapters.length === 0) {
      this.#finish(task, onSettled);
      return task;
    }
    this.#active.add(task);
    void new PrefetchRun(this.#context, task, keys.slice(p), layout)
      .run()
      .catch((err: unknown) => {
        // Reached only if L1 itself failed mid-way (closed): the L2 part counts as a miss.
        if (log.enabled) log('prefetch %d: L2 phase aborted: %s', task.id, String(err));
        task.l2Hits = 0;
        task.holdings = task.holdings.slice(0, task.l1Hits);
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
    this.#metrics.endPrefetch(task.timedFrom, task.keys[0]);
    onSettled(task);
  }
}
