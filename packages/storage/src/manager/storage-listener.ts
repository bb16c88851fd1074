import type { ObjectKey } from '@tierkv/core';

/**
 * Observes the StorageManager (after LMCache's StorageManagerListener): each event carries the keys
 * that succeeded and the keys that failed. Every method is optional; a throwing listener is
 * isolated and counted.
 */
export interface StorageManagerListener {
  onSmReservedWrite?(succeeded: readonly ObjectKey[], failed: readonly ObjectKey[]): void;
  onSmWriteFinished?(succeeded: readonly ObjectKey[], failed: readonly ObjectKey[]): void;
  onSmPrefetchSubmitted?(requested: readonly ObjectKey[], l1Hits: number, l2Hits: number): void;
  onSmReadPrefetched?(succeeded: readonly ObjectKey[], failed: readonly ObjectKey[]): void;
  onSmReadPrefetchedFinished?(succeeded: readonly ObjectKey[], failed: readonly ObjectKey[]): void;
  /** Keys that left the manager entirely (deleted, or evicted from L1 with no L2 copy requested). */
  onSmKeysDeleted?(keys: readonly ObjectKey[]): void;
  /** Keys evicted from L1 (they may still live in an L2 tier). */
  onSmKeysEvicted?(keys: readonly ObjectKey[]): void;
}
