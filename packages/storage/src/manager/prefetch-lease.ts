import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { PrefetchTask } from './prefetch-handle.js';
import { releaseHoldings, stillHeld, type ReadHolding } from './read-holding.js';

/**
 * The read locks of one prefetch, owned by whoever holds this object: `ready` resolves with the
 * length of the cached prefix, `objects()` hands out that prefix in place (zero copy), `release()`
 * gives the locks back. Only this lease's own locks: a lock that expired (`readLockTtlMs`) is
 * detected by its generation and neither handed out again nor released twice, so another reader's
 * fresh lock on the same object is never touched.
 */
export class PrefetchLease {
  readonly id: number;
  readonly keys: readonly ObjectKey[];
  readonly layout: MemoryLayout;
  /** Resolves with the ready prefix length once every load settled. */
  readonly ready: Promise<number>;
  readonly #l1: L1Manager;
  readonly #task: PrefetchTask;
  #holdings: ReadHolding[] | undefined;
  #released = false;

  /** @internal made by StorageManager.prefetch */
  constructor(l1: L1Manager, task: PrefetchTask, keys: readonly ObjectKey[], layout: MemoryLayout) {
    this.#l1 = l1;
    this.#task = task;
    this.id = task.id;
    this.keys = keys;
    this.layout = layout;
    task.whenSettled(() => {
      this.#holdings = task.holdings;
      task.holdings = [];
      // Released before it settled: give the locks back as soon as they exist.
      if (this.#released) this.#releaseAll();
    });
    this.ready = task.done;
  }

  /** The ready prefix length, or undefined while loads are pending. */
  status(): number | undefined {
    return this.#task.result;
  }

  /** Whether release() was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * The objects of the ready prefix, in key order, valid until release(): the leading run whose
   * locks are still this lease's (an expired lock ends it). Empty before `ready` resolves and
   * after release().
   */
  objects(): MemoryObj[] {
    const holdings = this.#holdings;
    if (!holdings || this.#released || holdings.length === 0) return [];
    const held = stillHeld(this.#l1, holdings);
    const out: MemoryObj[] = [];
    for (let i = 0; i < holdings.length && held[i]; i++) out.push(holdings[i]!.obj);
    return out;
  }

  /**
   * Releases `count` read locks per key (default all this lease holds; with `readers` > 1 each
   * reader may release its own one). Returns how many keys still had a lock to release.
   */
  release(count?: number): number {
    if (this.#released) return 0;
    const holdings = this.#holdings;
    if (!holdings) {
      // Not settled yet: the locks are released when it settles (see the constructor).
      this.#released = true;
      return 0;
    }
    const { released } = releaseHoldings(this.#l1, holdings, count);
    this.#holdings = holdings.filter((h) => h.count > 0);
    if (this.#holdings.length === 0) this.#released = true;
    return released.length;
  }


  #releaseAll(): void {
    const holdings = this.#holdings ?? [];
    this.#holdings = [];
    try {
      releaseHoldings(this.#l1, holdings);
    } catch {
      // L1 closed meanwhile: nothing is held any more.
    }
  }
}
