/**
 * Index of an object in the L1 slot table: a small dense integer, so policies can keep their
 * bookkeeping in typed arrays instead of maps.
 */
export type SlotId = number & { readonly __brand: 'SlotId' };

/**
 * Chooses which objects to evict first. The L1 manager shows it every readable (ready) object,
 * read-locked or not: `onInsert` when an object's write is published, `onAccess` when its last
 * reader releases it (or `touch`), `onRemove` when it stops being readable (rewritten, deleted or
 * evicted). A read lock does not take an object out (a get would otherwise pay two policy updates
 * for one use), so `coldest` is asked for the coldest object that `evictable` accepts and must skip
 * the others: those are read-locked right now. The manager checks the answer again and never evicts
 * an object `evictable` refuses.
 */
export interface EvictionPolicy {
  readonly name: string;
  /** Slot ids will be below `capacity` from now on (called before such ids are used; only grows). */
  resize(capacity: number): void;
  /** The object became readable. */
  onInsert(slot: SlotId): void;
  /** The object was used (its last reader released it, or `touch`). */
  onAccess(slot: SlotId): void;
  /** The object is no longer readable (rewritten, deleted or evicted). */
  onRemove(slot: SlotId): void;
  /**
   * The object to evict next among those `evictable` accepts (every tracked one when absent), or
   * -1 when there is none.
   */
  coldest(evictable?: (slot: SlotId) => boolean): SlotId | -1;
  /** Number of objects it tracks (evictable or not). */
  readonly size: number;
  /** Whether the slot is tracked (for memcheck). */
  has(slot: SlotId): boolean;
  /** Forget everything (on close or clear). */
  reset(): void;
}
