// SKELETON: the storage-L1 helper may refine this interface.
import type { EncodedKey } from '@tierkv/core';

/** Chooses which ready objects to evict first. The L1 manager tells it about every object. */
export interface EvictionPolicy {
  readonly name: string;
  onInsert(key: EncodedKey): void;
  onAccess(key: EncodedKey): void;
  onRemove(key: EncodedKey): void;
  /** Keys from coldest to hottest; the manager skips locked ones. */
  candidates(): Iterable<EncodedKey>;
}
