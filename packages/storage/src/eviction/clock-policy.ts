import type { EvictionPolicy, SlotId } from './eviction-policy.js';

/** The slot is evictable (tracked by the policy). */
const IN = 1;
/** Used since the hand last passed it: it gets a second chance. */
const REFERENCED = 2;

/**
 * CLOCK (second chance), the default: one byte per slot holds whether the object is evictable and
 * whether it was used since the hand last swept past it. An object enters unreferenced (a write
 * is not a use); the L1 manager marks a use (`onAccess`) when its last reader releases it and on
 * `touch`. `coldest()` sweeps the hand over the slot ids, clearing reference bits, and stops at the
 * first evictable slot without one.
 *
 * Why not LRU: an LRU list relinks two neighbours in memory on every lock and release, which on a
 * large L1 costs cache misses on objects the call never asked for; here a lock and a release touch
 * only the object's own byte. The price is approximate recency: an object used once since the hand
 * passed is kept over one that was not, however long ago, exactly as the OS page cache does.
 *
 * A sweep stops within two turns of the hand, and each reference bit it clears was set by one use,
 * so eviction costs O(1) amortized per use; the slot ids swept include free and locked ones, which
 * the slot table keeps dense (free ids are reused first).
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

  coldest(): SlotId | -1 {
    if (this.#size === 0) return -1;
    const bits = this.#bits;
    const end = this.#end;
    let hand = this.#hand;
    // At most two turns: the first clears every reference bit it passes.
    for (let steps = 0; steps < 2 * end + 1; steps++) {
      if (hand >= end) hand = 0;
      const b = bits[hand]!;
      if (b === IN) {
        this.#hand = hand;
        return hand as SlotId;
      }
      if (b !== 0) bits[hand] = IN;
      hand++;
    }
    throw new Error(`ClockPolicy: ${this.#size} objects tracked but none found (corrupt state)`);
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
