import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { L1Manager, WriteMode } from '../l1/l1-manager.js';
import type { L1KeyResult } from '../l1/l1-result.js';
import type { MemoryObj } from '../l1/memory-obj.js';

/**
 * reserveWrite that hands out what fits, in key order. L1 batches are all-or-nothing on memory
 * (OUT_OF_MEMORY for every key when the batch does not fit); LMCache's StorageManager and a prefix
 * prefetch both want the leading keys that do fit, so OOM keys are retried one by one until the
 * first that still does not fit.
 */
export function reserveInOrder(
  l1: L1Manager,
  keys: readonly ObjectKey[],
  layout: MemoryLayout,
  mode: WriteMode,
  options: { temporary?: boolean } = {},
): L1KeyResult<MemoryObj>[] {
  const results = l1.reserveWrite(keys, layout, mode, options);
  if (keys.length <= 1 || !results.some((r) => r.code === 'OUT_OF_MEMORY')) return results;
  const out = [...results];
  let full = false;
  for (let i = 0; i < keys.length; i++) {
    if (out[i]!.code !== 'OUT_OF_MEMORY' || full) continue;
    const [one] = l1.reserveWrite([keys[i]!], layout, mode, options);
    out[i] = one!;
    if (one!.code === 'OUT_OF_MEMORY') full = true;
  }
  return out;
}
