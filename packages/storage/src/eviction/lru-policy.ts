import type { EvictionPolicy, SlotId } from './eviction-policy.js';

const NIL = -1;
/** `prev` value of a slot that is not in the list. */
const OUT = -2;

/**
 * Least recently used first. An intrusive doubly linked list over slot ids (as lru-cache does),
 * with a slot's prev and next links side by side in one Int32Array so a relink touches one cache
 * line per slot: insert, access and remove relink a few integers and allocate nothing. Releasing
 * the last read lock moves an object to the hot end, so a read counts as a use.
 */
export class LruPolicy implements EvictionPolicy {
  readonly name: string = 'lru';
  /** [prev, next] per slot; prev === OUT when the slot is not in the list. */
  #links = new Int32Array(0);
  #head = NIL; // coldest
  #tail = NIL; // hottest
  #size = 0;

  constructor(initialCapacity = 1024) {
    this.resize(initialCapacity);
  }

  get size(): number {
    return this.#size;
  }

  resize(capacity: number): void {
    if (capacity * 2 <= this.#links.length) return;
    const links = new Int32Array(capacity * 2).fill(OUT);
    links.set(this.#links);
    this.#links = links;
  }

  onInsert(slot: SlotId): void {
    if (this.#links[slot * 2] !== OUT) this.#unlink(slot);
    this.#append(slot);
  }

  onAccess(slot: SlotId): void {
    if (this.#links[slot * 2] === OUT || this.#tail === slot) return;
    this.#unlink(slot);
    this.#append(slot);
  }

  onRemove(slot: SlotId): void {
    if (this.#links[slot * 2] !== OUT) this.#unlink(slot);
  }

  coldest(evictable?: (slot: SlotId) => boolean): SlotId | -1 {
    // A refused (read-locked) object at the cold end is in use: it moves to the hot end, where its
    // release would put it anyway, so each is passed over once per use and eviction stays O(1)
    // amortized. At most `size` are passed over: then every one was refused.
    for (let n = this.#size; n > 0; n--) {
      const s = this.#head as SlotId;
      if (evictable === undefined || evictable(s)) return s;
      this.#unlink(s);
      this.#append(s);
    }
    return -1;
  }

  has(slot: SlotId): boolean {
    return slot * 2 < this.#links.length && this.#links[slot * 2] !== OUT;
  }

  reset(): void {
    this.#links.fill(OUT);
    this.#head = NIL;
    this.#tail = NIL;
    this.#size = 0;
  }

  /** Slots from coldest to hottest (diagnostics and tests). */
  *order(): IterableIterator<SlotId> {
    for (let s = this.#head; s !== NIL; s = this.#links[s * 2 + 1]!) yield s as SlotId;
  }

  #append(slot: number): void {
    const links = this.#links;
    links[slot * 2] = this.#tail;
    links[slot * 2 + 1] = NIL;
    if (this.#tail === NIL) this.#head = slot;
    else links[this.#tail * 2 + 1] = slot;
    this.#tail = slot;
    this.#size++;
  }

  #unlink(slot: number): void {
    const links = this.#links;
    const prev = links[slot * 2]!;
    const next = links[slot * 2 + 1]!;
    if (prev === NIL) this.#head = next;
    else links[prev * 2 + 1] = next;
    if (next === NIL) this.#tail = prev;
    else links[next * 2] = prev;
    links[slot * 2] = OUT;
    this.#size--;
  }
}
