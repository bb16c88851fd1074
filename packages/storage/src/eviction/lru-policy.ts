import type { EvictionPolicy, SlotId } from './eviction-policy.js';

const NIL = 0xffff_ffff;

/**
 * Least recently used first. An intrusive doubly linked list over slot ids kept in two Uint32Arrays
 * (as lru-cache does): insert, access and remove relink a few integers and allocate nothing.
 * Releasing the last read lock re-inserts an object at the hot end, so a read counts as a use.
 */
export class LruPolicy implements EvictionPolicy {
  readonly name: string = 'lru';
  #prev = new Uint32Array(0);
  #next = new Uint32Array(0);
  #member = new Uint8Array(0);
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
    if (capacity <= this.#prev.length) return;
    const prev = new Uint32Array(capacity);
    const next = new Uint32Array(capacity);
    const member = new Uint8Array(capacity);
    prev.set(this.#prev);
    next.set(this.#next);
    member.set(this.#member);
    this.#prev = prev;
    this.#next = next;
    this.#member = member;
  }

  onInsert(slot: SlotId): void {
    if (this.#member[slot] === 1) this.#unlink(slot);
    this.#append(slot);
  }

  onAccess(slot: SlotId): void {
    if (this.#member[slot] !== 1 || this.#tail === slot) return;
    this.#unlink(slot);
    this.#append(slot);
  }

  onRemove(slot: SlotId): void {
    if (this.#member[slot] === 1) this.#unlink(slot);
  }

  coldest(): SlotId | -1 {
    return this.#head === NIL ? -1 : (this.#head as SlotId);
  }

  has(slot: SlotId): boolean {
    return this.#member[slot] === 1;
  }

  reset(): void {
    this.#member.fill(0);
    this.#head = NIL;
    this.#tail = NIL;
    this.#size = 0;
  }

  /** Slots from coldest to hottest (diagnostics and tests). */
  *order(): IterableIterator<SlotId> {
    for (let s = this.#head; s !== NIL; s = this.#next[s]!) yield s as SlotId;
  }

  #append(slot: number): void {
    this.#member[slot] = 1;
    this.#prev[slot] = this.#tail;
    this.#next[slot] = NIL;
    if (this.#tail === NIL) this.#head = slot;
    else this.#next[this.#tail] = slot;
    this.#tail = slot;
    this.#size++;
  }

  #unlink(slot: number): void {
    const prev = this.#prev[slot]!;
    const next = this.#next[slot]!;
    if (prev === NIL) this.#head = next;
    else this.#next[prev] = next;
    if (next === NIL) this.#tail = prev;
    else this.#prev[next] = prev;
    this.#member[slot] = 0;
    this.#size--;
  }
}
