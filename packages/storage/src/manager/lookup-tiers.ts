import { ATTR, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { Tier } from './storage-types.js';

/**
 * Where each key lives now, without loading: L1 first, then each L2 tier in order for the keys
 * still missing (a tombstoned key, whose delete failed in L2, is never reported from L2). The pins
 * an L2 lookup takes are dropped at once.
 */
export async function lookupTiers(l1: L1Manager, adapters: readonly InstrumentedL2Adapter[], isTombstoned: (key: ObjectKey) => boolean, keys: readonly ObjectKey[]): Promise<Tier[]> {
  const out = tiersInL1(l1, keys);
  for (const adapter of adapters) {
    const idx = out.flatMap((t, i) => (t === 'miss' && !isTombstoned(keys[i]!) ? [i] : []));
    if (idx.length === 0) break;
    const asked = idx.map((i) => keys[i]!);
    const found = await adapter.lookupAndLock(asked);
    const hit = asked.filter((_, j) => found[j]);
    idx.forEach((i, j) => {
      if (found[j]) out[i] = 'l2';
    });
    if (hit.length > 0) await adapter.unlock(hit);
  }
  return out;
}

/**
 * The same answer when L1 alone settles it (every key in L1, or no L2 tier to ask), else
 * undefined: a lookup served from memory then costs no promise, no L2 call and no await.
 */
export function lookupTiersInL1(l1: L1Manager, adapters: readonly InstrumentedL2Adapter[], keys: readonly ObjectKey[]): Tier[] | undefined {
  const out = tiersInL1(l1, keys);
  return adapters.length === 0 || !out.includes('miss') ? out : undefined;
}

/** `l1` or `miss` per key: the first step of every lookup. */
function tiersInL1(l1: L1Manager, keys: readonly ObjectKey[]): Tier[] {
  return l1.contains(keys).map((c) => (c ? 'l1' : 'miss'));
}

/** Span attributes of a lookup: counts per tier and the hit prefix (never the keys). */
export function tierAttributes(count: number, tiers: readonly Tier[]): Record<string, number> {
  let l1 = 0;
  let l2 = 0;
  let prefix = 0;
  while (prefix < tiers.length && tiers[prefix] !== 'miss') prefix++;
  for (const t of tiers) {
    if (t === 'l1') l1++;
    else if (t === 'l2') l2++;
  }
  return { [ATTR.KEYS_COUNT]: count, [ATTR.PREFIX_HITS]: prefix, [ATTR.PREFIX_L1_HITS]: l1, [ATTR.PREFIX_L2_HITS]: l2 };
}
