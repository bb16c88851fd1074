/**
 * Index of an object in the L1 slot table: a small dense integer, so policies can keep their
 * bookkeeping in typed arrays instead of maps.
 */
export type SlotId = number & { readonly __brand: 'SlotId' };

/**
 * Chooses which evictable objects to evict first. The L1 manager only ever shows it objects that
 * may be evicted (ready and unlocked): `onInsert` when an object becomes evictable (its write
 * finished, or its last read lock was released), `onRemove` when it stops being evictable (locked,
 * deleted or evicted). So `coldest()` never has to skip locked objects, and eviction is O(1) per
 * object.
 */
export interface EvictionPolicy {
  readonly name: string;
  /** Slot ids will be below `capacity` from now on (called before such ids are used; only grows). */
  resize(capacity: number): void;
  /** The object became evictable. */
  onInsert(slot: SlotId): void;
  /** The evictable object was used without being locked (for example by `touch`). */
  onAccess(slot: SlotId): void;
  /** The object is no longer evictable. */
  onRemove(slot: SlotId): void;
  /** The object to evict next, or -1 when nothing is evictable. */
  coldest(): SlotId | -1;
  /** Number of evictable objects it tracks. */
  readonly size: number;
  /** Whether the slot is tracked (for memcheck). */
  has(slot: SlotId): boolean;
  /** Forget everything (on close or clear). */
  reset(): void;
}
