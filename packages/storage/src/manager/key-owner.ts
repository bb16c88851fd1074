import { encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { PrefetchTask } from './prefetch-handle.js';
import { releaseHoldings, stillHeld, type ReadHolding } from './read-holding.js';

interface KeyReservation {
  readonly key: ObjectKey;
  readonly gen: number;
  readonly temporary: boolean;
}

/**
 * The owner behind the LMCache-shaped, key-based calls: the reservations reserveWrite made and the
 * read locks submitPrefetch took, by key, each with its lock generation. finishWrite/abortWrite and
 * readPrefetched/finishReadPrefetched act only on these: a key this surface does not hold (or whose
 * lock expired and was reissued) is refused, never finished or released on someone else's behalf.
 */
export class KeyOwner {
  readonly #l1: L1Manager;
  readonly #writes = new Map<EncodedKey, KeyReservation>();
  readonly #reads = new Map<EncodedKey, ReadHolding[]>();

  constructor(l1: L1Manager) {
    this.#l1 = l1;
  }

  addReservations(keys: readonly ObjectKey[], objs: readonly (MemoryObj | undefined)[], gens: readonly number[], temporary: boolean): void {
    objs.forEach((o, i) => {
      if (o) this.#writes.set(encodeKey(keys[i]!), { key: keys[i]!, gen: gens[i]!, temporary });
    });
  }

  /** Commits the held reservations among `keys`; per-key result, `refusedValue` for keys not held. */
  finish<T>(
    keys: readonly ObjectKey[],
    commit: (keys: readonly ObjectKey[], gens: readonly number[], temporary: boolean) => T[],
    refusedKeys: (keys: readonly ObjectKey[]) => void,
    refusedValue: T,
  ): T[] {
    const out = keys.map(() => refusedValue);
    const groups = new Map<boolean, { idx: number[]; keys: ObjectKey[]; gens: number[] }>();
    const refused: ObjectKey[] = [];
    keys.forEach((key, i) => {
      const k = encodeKey(key);
      const r = this.#writes.get(k);
      if (!r) {
        refused.push(key);
        return;
      }
      this.#writes.delete(k);
      let g = groups.get(r.temporary);
      if (!g) groups.set(r.temporary, (g = { idx: [], keys: [], gens: [] }));
      g.idx.push(i);
      g.keys.push(key);
      g.gens.push(r.gen);
    });
    for (const [temporary, g] of groups) {
      const ok = commit(g.keys, g.gens, temporary);
      g.idx.forEach((i, j) => (out[i] = ok[j]!));
    }
    if (refused.length > 0) refusedKeys(refused);
    return out;
  }

  abort(keys: readonly ObjectKey[]): void {
    const own: KeyReservation[] = [];
    for (const key of keys) {
      const k = encodeKey(key);
      const r = this.#writes.get(k);
      if (!r) continue;
      this.#writes.delete(k);
      own.push(r);
    }
    if (own.length > 0) {
      this.#l1.abortWrite(
        own.map((r) => r.key),
        own.map((r) => r.gen),
      );
    }
  }

  /** Takes over the read locks of a prefetch when it settles (synchronously, so no call can miss them). */
  addPrefetch(task: PrefetchTask): void {
    task.whenSettled(() => {
      const holdings = task.holdings;
      task.holdings = [];
      for (const h of holdings) {
        const k = encodeKey(h.key);
        const list = this.#reads.get(k);
        if (list) list.push(h);
        else this.#reads.set(k, [h]);
      }
    });
  }

  /**
   * The objects of `keys`, all or nothing: each key's oldest lock of this owner must still be live
   * (and of `layout` when given). On failure one lock of each key that had one is given back (the
   * caller will not read it), an expired one included. Locks are consumed in the order the
   * prefetches took them, so a late call about an expired lock never uses up a newer one.
   */
  read(keys: readonly ObjectKey[], layout: MemoryLayout | undefined): { objs: MemoryObj[] | undefined; ok: ObjectKey[]; failed: ObjectKey[] } {
    const objs: MemoryObj[] = [];
    const ok: ObjectKey[] = [];
    const failed: ObjectKey[] = [];
    const present: ObjectKey[] = [];
    for (const key of keys) {
      const held = this.#reads.has(encodeKey(key));
      const h = this.#live(key);
      if (held) present.push(key);
      if (h && (!layout || h.obj.layout.equals(layout))) {
        objs.push(h.obj);
        ok.push(key);
      } else failed.push(key);
    }
    if (failed.length === 0) return { objs, ok, failed };
    if (present.length > 0) this.release(present, 1);
    return { objs: undefined, ok, failed };
  }

  /**
   * Gives back up to `count` locks per key, oldest first; an expired lock is given back as such
   * (nothing to release in L1), so it is never mistaken for a newer one. Keys this owner holds no
   * lock of are `unknown`.
   */
  release(keys: readonly ObjectKey[], count: number): { released: ObjectKey[]; unknown: ObjectKey[] } {
    const released: ObjectKey[] = [];
    const unknown: ObjectKey[] = [];
    for (const key of keys) {
      const k = encodeKey(key);
      const list = this.#reads.get(k);
      let left = count;
      let any = false;
      while (list && list.length > 0 && left > 0) {
        const h = list[0]!;
        const n = Math.min(left, h.count);
        releaseHoldings(this.#l1, [h], n);
        any = true;
        left -= n;
        if (h.count <= 0) list.shift();
      }
      if (list && list.length === 0) this.#reads.delete(k);
      (any ? released : unknown).push(key);
    }
    return { released, unknown };
  }

  /** Gives back everything this owner holds (close). */
  releaseAll(): void {
    const holdings = [...this.#reads.values()].flat();
    this.#reads.clear();
    releaseHoldings(this.#l1, holdings);
    const writes = [...this.#writes.values()];
    this.#writes.clear();
    if (writes.length > 0) {
      this.#l1.abortWrite(
        writes.map((r) => r.key),
        writes.map((r) => r.gen),
      );
    }
  }

  /** The oldest holding of `key` when its locks are still live; undefined when absent or expired. */
  #live(key: ObjectKey): ReadHolding | undefined {
    const h = this.#reads.get(encodeKey(key))?.[0];
    return h && stillHeld(this.#l1, [h])[0] ? h : undefined;
  }
}
