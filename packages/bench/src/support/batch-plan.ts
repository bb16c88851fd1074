import { MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { L2StoreItem } from '@tierkv/storage';
import { benchKeys } from './bench-keys.js';
import { pattern } from './payload.js';

/**
 * The work of an L2 throughput scenario: `objects` keys of `size` bytes visited in batches of
 * `batch` (one request's chunks). Batch j of every round stores `sources[j]` and loads into
 * `targets[j]`, so a reference and tierkv move the very same bytes.
 */
export interface BatchPlan {
  readonly layout: MemoryLayout;
  readonly keys: readonly ObjectKey[];
  /** Object ids per batch. */
  readonly batches: readonly (readonly number[])[];
  readonly sources: readonly Uint8Array[];
  readonly targets: readonly Uint8Array[];
  /** The adapter's store items and load keys per batch, built once outside the timed loops. */
  readonly storeItems: readonly L2StoreItem[][];
  readonly loadKeys: readonly ObjectKey[][];
}

export function batchPlan(size: number, objects: number, batch: number): BatchPlan {
  const layout = MemoryLayout.bytes(size);
  const keys = benchKeys(objects);
  const batches: number[][] = [];
  for (let i = 0; i < objects; i += batch) batches.push(Array.from({ length: batch }, (_, j) => i + j));
  const sources = Array.from({ length: batch }, (_, j) => pattern(size, j));
  const targets = Array.from({ length: batch }, () => new Uint8Array(size));
  const storeItems = batches.map((ids) => ids.map((id, j) => ({ key: keys[id]!, layout, data: sources[j]! })));
  const loadKeys = batches.map((ids) => ids.map((id) => keys[id]!));
  return { layout, keys, batches, sources, targets, storeItems, loadKeys };
}
