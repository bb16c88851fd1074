import type { ObjectKey } from '@tierkv/core';

/**
 * What L1 charges to its key budget (`l1.maxKeyBytes`) for one key: its model name and salt, at two
 * bytes a character (the worst case of a JS string). Keys live on the JS heap, not in the arena,
 * so without a budget a peer storing tiny chunks under long model names grows the heap far past
 * the configured capacity. The fixed part of a key (its object, its 16-character hash, the index
 * entry: about 200 bytes) is not charged: objects are at most capacityBytes / alignBytes, so that
 * part is already bounded by the configuration, and charging it would make the budget the limit for
 * caches of small objects with ordinary keys.
 */
export function keyChargeBytes(key: ObjectKey): number {
  return 2 * (key.modelName.length + key.cacheSalt.length);
}
