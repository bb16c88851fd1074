import type { ObjectKey } from '@tierkv/core';

/** A key's cost besides its strings: the ObjectKey and MemoryObj objects and its index entry. */
const KEY_FIXED_BYTES = 160;

/**
 * What L1 charges to its key budget (`l1.maxKeyBytes`) for one key: an estimate of the JS heap
 * the key holds (strings counted at two bytes a character, the worst case). Keys live on the heap,
 * not in the arena, so without a budget a peer storing tiny chunks under long model names grows
 * the heap far past the configured capacity.
 */
export function keyChargeBytes(key: ObjectKey): number {
  return KEY_FIXED_BYTES + 2 * (key.chunkHash.length + key.modelName.length + key.cacheSalt.length);
}
