import type { ObjectKey } from '@tierkv/core';
import type { ReadHolding } from './read-holding.js';

/** An opaque prefetch ticket. */
export interface PrefetchHandle {
  readonly id: number;
}

/** The manager's record of one prefetch: what was asked, what each tier gave, and when it settled. */
export class PrefetchTask implements PrefetchHandle {
  readonly id: number;
  /** The requested keys; dropped once the prefetch settled and was reported (results are kept long). */
  keys: readonly ObjectKey[];
  /** performance.now() at submission when this prefetch's duration is sampled (StorageMetrics.startPrefetch), else 0. */
  readonly timedFrom: number;
  /** Read locks taken per ready key (one per reader that will read and release it). */
  readonly readers: number;
  l1Hits = 0;
  l2Hits = 0;
  /** The read locks of the ready prefix, in key order, once settled (taken over by the owner). */
  holdings: ReadHolding[] = [];
  /** The ready prefix length once settled; undefined while L2 loads are pending. */
  result: number | undefined;
  done: Promise<number>;
  #resolve!: (n: number) => void;
  #onSettle: (() => void)[] | undefined = [];

  constructor(id: number, keys: readonly ObjectKey[], timedFrom: number, readers = 1) {
    this.id = id;
    this.readers = readers;
    this.keys = keys;
    this.timedFrom = timedFrom;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Runs `fn` synchronously when the task settles (at once if it has): the owner takes the locks then, with no gap. */
  whenSettled(fn: () => void): void {
    if (this.#onSettle === undefined) fn();
    else this.#onSettle.push(fn);
  }

  settle(): void {
    this.result = this.l1Hits + this.l2Hits;
    const fns = this.#onSettle ?? [];
    this.#onSettle = undefined;
    for (const fn of fns) fn();
    this.#resolve(this.result);
  }
}
