import { encodeKey, type EncodedKey, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';

// L1 takes at most this many read locks per key and call (LMCache's bound, MAX_READ_LOCKS).
const MAX_READ_LOCKS = 128;
import type { MemoryObj } from '../l1/memory-obj.js';

/**
 * The L1 read locks prefetches hold for their callers, with the object each one guards, so
 * readPrefetched can hand out objects without another L1 call and finishReadPrefetched (or a failed
 * readPrefetched) releases exactly the locks a prefetch took, never someone else's.
 */
export class PrefetchLocks {
  readonly #l1: L1Manager;
  readonly #held = new Map<EncodedKey, { obj: MemoryObj; count: number }>();

  constructor(l1: L1Manager) {
    this.#l1 = l1;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Records `count` more read locks the caller already took on `obj`. */
  add(obj: MemoryObj, count = 1): void {
    const k = encodeKey(obj.key);
    const e = this.#held.get(k);
    if (e) {
      e.count += count;
      e.obj = obj;
    } else this.#held.set(k, { obj, count });
  }

  get(key: ObjectKey): MemoryObj | undefined {
    return this.#held.get(encodeKey(key))?.obj;
  }

  /** Releases up to `count` locks held on each key; returns the keys that had at least one. */
  release(keys: readonly ObjectKey[], count = 1): { released: ObjectKey[]; unknown: ObjectKey[] } {
    const released: ObjectKey[] = [];
    const unknown: ObjectKey[] = [];
    const toFinish: [ObjectKey, number][] = [];
    for (const key of keys) {
      const k = encodeKey(key);
      const e = this.#held.get(k);
      if (!e) {
        unknown.push(key);
        continue;
      }
      const n = Math.min(count, e.count);
      e.count -= n;
      if (e.count === 0) this.#held.delete(k);
      toFinish.push([key, n]);
      released.push(key);
    }
    // finishRead takes a lock count per call (at most MAX_READ_LOCKS): group keys by count.
    const byCount = new Map<number, ObjectKey[]>();
    for (const [key, n] of toFinish) {
      let list = byCount.get(n);
      if (!list) byCount.set(n, (list = []));
      list.push(key);
    }
    for (const [n, list] of byCount) {
      for (let left = n; left > 0; left -= MAX_READ_LOCKS) this.#l1.finishRead(list, Math.min(left, MAX_READ_LOCKS));
    }
    return { released, unknown };
  }

  /** Forgets keys L1 dropped on its own (a lock TTL expired): there is nothing left to release. */
  forget(keys: readonly ObjectKey[]): void {
    for (const key of keys) this.#held.delete(encodeKey(key));
  }

  /** Releases every lock (close). */
  releaseAll(): void {
    this.release([...this.#held.values()].map((e) => e.obj.key), Number.MAX_SAFE_INTEGER);
  }
}
