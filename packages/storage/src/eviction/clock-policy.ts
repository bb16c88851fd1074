import type { EvictionPolicy, SlotId } from './eviction-policy.js';

/** The slot is tracked by the policy (its object is readable). */
const IN = 1;
/** Used since the hand last passed it: it gets a second chance. */
const REFERENCED = 2;

/**
 * CLOCK (second chance), the default: one byte per slot holds whether the object is tracked and
 * whether it was used since the hand last swept past it. An object enters unreferenced (a write
 * is not a use); the L1 manager marks a use (`onAccess`) when its last reader releases it and on
 * `touch`. `coldest()` sweeps the hand over the slot ids, clearing reference bits, and stops at the
 * first tracked slot without one that `evictable` accepts; the ones it refuses (read-locked) are
 * passed over (their release marks them used again).
 *
 * Why not LRU: an LRU list relinks two neighbours in memory on every release, which on a large L1
 * costs cache misses on objects the call never asked for; here a release touches only the object's
 * own byte, and a lock nothing at all. The price is approximate recency: an object used once since
 * the hand passed is kept over one that was not, however long ago, exactly as the OS page cache does.
 *
 * A sweep stops within two turns of the hand (after the first, no tracked slot has its bit), and
 * each reference bit it clears was set by one use, so eviction costs O(1) amortized per use plus
 * the slot ids passed over: free ones (the slot table keeps ids dense, reusing free ids first) and
 * read-locked ones.
 */
export class ClockPolicy implements EvictionPolicy {
  readonly name: string = 'clock';
  #bits = new Uint8Array(0);
  #hand = 0;
  /** Highest slot id ever tracked + 1: the hand wraps here. */
  #end = 0;
  #size = 0;

  constructor(initialCapacity = 1024) {
    this.resize(initialCapacity);
  }

  get size(): number {
    return this.#size;
  }

  resize(capacity: number): void {
    if (capacity <= this.#bits.length) return;
    const bits = new Uint8Array(capacity);
    bits.set(this.#bits);
    this.#bits = bits;
  }

  onInsert(slot: SlotId): void {
    if ((this.#bits[slot]! & IN) === 0) this.#size++;
    this.#bits[slot] = IN;
    if (slot >= this.#end) this.#end = slot + 1;
  }

  onAccess(slot: SlotId): void {
    if ((this.#bits[slot]! & IN) !== 0) this.#bits[slot] = IN | REFERENCED;
  }

  onRemove(slot: SlotId): void {
    if ((this.#bits[slot]! & IN) === 0) return;
    this.#bits[slot] = 0;
    this.#size--;
  }

  coldest(evictable?: (slot: SlotId) => boolean): SlotId | -1 {
    if (this.#size === 0) return -1;
    const bits = this.#bits;
    const end = this.#end;
    let hand = this.#hand;
    // At most two turns: the first clears every reference bit it passes, so in the second every
    // tracked slot is a candidate; none then means `evictable` refused them all.
    for (let steps = 0; steps < 2 * end + 1; steps++) {
      if (hand >= end) hand = 0;
      const b = bits[hand]!;
      if (b === IN) {
        if (evictable === undefined || evictable(hand as SlotId)) {
          this.#hand = hand;
          return hand as SlotId;
        }
      } else if (b !== 0) bits[hand] = IN;
      hand++;
    }
    this.#hand = hand;
    return -1;
  }

  has(slot: SlotId): boolean {
    return slot < this.#bits.length && (this.#bits[slot]! & IN) !== 0;
  }

  reset(): void {
    this.#bits.fill(0);
    this.#hand = 0;
    this.#end = 0;
    this.#size = 0;
  }

  /** Whether the slot's reference bit is set (diagnostics and tests). */
  referenced(slot: SlotId): boolean {
    return (this.#bits[slot]! & REFERENCED) !== 0;
  }
}
