import type { ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import { MAX_READ_LOCKS } from '../l1/read-lock-limit.js';

/**
 * Read locks one owner holds on one L1 object: the object, the lock generation it was taken
 * under, and how many locks. The generation makes a lock that expired (and maybe was taken again
 * by someone else) detectable: it is never handed out again and never released twice.
 */
export interface ReadHolding {
  readonly key: ObjectKey;
  readonly obj: MemoryObj;
  readonly gen: number;
  count: number;
}

/**
 * Takes a holding for each object L1 just read-locked (same synchronous step: nothing ran between
 * the lock and this call, so the generation read now is the lock's).
 */
export function holdingsOf(l1: L1Manager, objs: readonly MemoryObj[], count: number): ReadHolding[] {
  if (objs.length === 0) return [];
  // One object (a single-key read, the common case): no arrays to build.
  if (objs.length === 1) return [{ key: objs[0]!.key, obj: objs[0]!, gen: l1.generationOf(objs[0]!.key), count }];
  const gens = l1.generations(objs.map((o) => o.key));
  return objs.map((obj, i) => ({ key: obj.key, obj, gen: gens[i]!, count }));
}

/** Whether each holding's locks are still held (not expired): LOCK_NOT_HELD otherwise. */
export function stillHeld(l1: L1Manager, holdings: readonly ReadHolding[]): boolean[] {
  if (holdings.length === 0) return [];
  const res = l1.unsafeRead(
    holdings.map((h) => h.key),
    holdings.map((h) => h.gen),
  );
  return res.map((r, i) => r.code === 'SUCCESS' && r.obj === holdings[i]!.obj);
}

/**
 * Releases `count` locks of each holding (all of them by default); returns which holdings were
 * released and which had expired meanwhile (nothing left to release: another reader's locks
 * taken since are kept). Each holding's `count` drops by what was released.
 */
export function releaseHoldings(l1: L1Manager, holdings: readonly ReadHolding[], count = Number.MAX_SAFE_INTEGER): { released: ReadHolding[]; stale: ReadHolding[] } {
  const released: ReadHolding[] = [];
  const stale: ReadHolding[] = [];
  if (holdings.length === 1 && Math.min(count, holdings[0]!.count) <= MAX_READ_LOCKS) {
    // One holding: L1's single-key release.
    const h = holdings[0]!;
    const n = Math.min(count, h.count);
    if (n <= 0) return { released, stale };
    const ok = l1.finishReadOne(h.key, n, h.gen).code === 'SUCCESS';
    h.count -= n;
    (ok ? released : stale).push(h);
    return { released, stale };
  }
  // finishRead takes one lock count per call (at most MAX_READ_LOCKS): group holdings by count.
  const byCount = new Map<number, ReadHolding[]>();
  for (const h of holdings) {
    const n = Math.min(count, h.count);
    if (n <= 0) continue;
    let list = byCount.get(n);
    if (!list) byCount.set(n, (list = []));
    list.push(h);
  }
  for (const [n, list] of byCount) {
    let ok = list.map(() => true);
    for (let left = n; left > 0; left -= MAX_READ_LOCKS) {
      const step = Math.min(left, MAX_READ_LOCKS);
      const res = l1.finishRead(
        list.map((h) => h.key),
        step,
        list.map((h) => h.gen),
      );
      ok = ok.map((o, i) => o && res[i]!.code === 'SUCCESS');
    }
    list.forEach((h, i) => {
      h.count -= n;
      (ok[i] ? released : stale).push(h);
    });
  }
  return { released, stale };
}
