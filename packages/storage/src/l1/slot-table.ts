import type { ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import type { BlockId } from './allocator.js';
import type { L1KeyResult } from './l1-result.js';
import type { MemoryObj } from './memory-obj.js';

/** The slot holds nothing. */
export const STATE_FREE = 0;
/** Reserved by a writer: memory allocated, contents not yet valid. */
export const STATE_WRITE_LOCKED = 1;
/** Written and readable; read-locked when its read count (LockTable) is above zero. */
export const STATE_READY = 2;

const INITIAL_CAPACITY = 1024;

/**
 * The object index: key → slot id, and per slot its state, allocator block and size in typed
 * arrays, with a typed-array stack of free slots (the lru-cache layout). Once warm, inserting and
 * removing allocate nothing but the Map entry.
 *
 * The Map is keyed by the chunk hash alone, not by the full encoded key: building and hashing a
 * fresh ~60-character string per lookup cost more than everything else in a small-object
 * operation. Keys that share a chunk hash (other ranks, models or salts of the same prefix) are
 * chained through `#nextSameHash` and told apart by comparing their other fields.
 */
export class SlotTable {
  state: Uint8Array;
  block: Int32Array;
  /** Bytes the caller asked for (the layout's size; the block may be larger). */
  bytes: Float64Array;
  temporary: Uint8Array;
  readonly keys: (ObjectKey | undefined)[] = [];
  readonly objs: (MemoryObj | undefined)[] = [];
  /** The SUCCESS result handed out for the object, made once per object rather than per call. */
  readonly success: (L1KeyResult<MemoryObj> | undefined)[] = [];
  readonly #map = new Map<string, number>();
  #nextSameHash: Int32Array;
  #size = 0;
  #freeStack: Int32Array;
  #freeTop = 0;
  #high = 0;
  readonly #onGrow: (capacity: number) => void;

  constructor(onGrow: (capacity: number) => void, initialCapacity = INITIAL_CAPACITY) {
    this.#onGrow = onGrow;
    this.state = new Uint8Array(initialCapacity);
    this.block = new Int32Array(initialCapacity).fill(-1);
    this.bytes = new Float64Array(initialCapacity);
    this.temporary = new Uint8Array(initialCapacity);
    this.#freeStack = new Int32Array(initialCapacity);
    this.#nextSameHash = new Int32Array(initialCapacity).fill(-1);
    onGrow(initialCapacity);
  }

  get capacity(): number {
    return this.state.length;
  }

  /** Highest slot id ever used + 1 (scans stop here). */
  get high(): number {
    return this.#high;
  }

  get size(): number {
    return this.#size;
  }

  /** The slot holding `key`, or -1. */
  find(key: ObjectKey): SlotId | -1 {
    const head = this.#map.get(key.chunkHash);
    if (head === undefined) return -1;
    for (let s = head; s >= 0; s = this.#nextSameHash[s]!) {
      const k = this.keys[s]!;
      if (k.kvRank === key.kvRank && k.modelName === key.modelName && k.cacheSalt === key.cacheSalt) return s as SlotId;
    }
    return -1;
  }

  /** Creates a slot for a key that has none; state and block are set by the caller. */
  insert(key: ObjectKey): SlotId {
    let slot: number;
    if (this.#freeTop > 0) slot = this.#freeStack[--this.#freeTop]!;
    else {
      if (this.#high === this.state.length) this.#grow(this.state.length * 2);
      slot = this.#high++;
    }
    this.keys[slot] = key;
    const head = this.#map.get(key.chunkHash);
    this.#nextSameHash[slot] = head === undefined ? -1 : head;
    this.#map.set(key.chunkHash, slot);
    this.#size++;
    return slot as SlotId;
  }

  /** Forgets the slot's key and returns the slot to the free stack. */
  remove(slot: SlotId): void {
    const hash = this.keys[slot]!.chunkHash;
    const head = this.#map.get(hash)!;
    const next = this.#nextSameHash[slot]!;
    if (head === slot) {
      if (next < 0) this.#map.delete(hash);
      else this.#map.set(hash, next);
    } else {
      let prev = head;
      while (this.#nextSameHash[prev] !== slot) prev = this.#nextSameHash[prev]!;
      this.#nextSameHash[prev] = next;
    }
    this.#nextSameHash[slot] = -1;
    this.#size--;
    this.state[slot] = STATE_FREE;
    this.block[slot] = -1;
    this.temporary[slot] = 0;
    this.bytes[slot] = 0;
    this.keys[slot] = undefined;
    this.objs[slot] = undefined;
    this.success[slot] = undefined;
    this.#freeStack[this.#freeTop++] = slot;
  }

  blockOf(slot: SlotId): BlockId {
    return this.block[slot]! as BlockId;
  }

  /** Problems in the index itself (map ↔ chains ↔ slots). */
  check(): string[] {
    const problems: string[] = [];
    let live = 0;
    for (let s = 0; s < this.#high; s++) {
      if (this.state[s] === STATE_FREE) continue;
      live++;
      const key = this.keys[s];
      if (key === undefined || this.find(key) !== s) problems.push(`slot ${s} is live but the index does not lead to it`);
    }
    let chained = 0;
    for (const head of this.#map.values()) {
      for (let s = head, n = 0; s >= 0; s = this.#nextSameHash[s]!, n++) {
        chained++;
        if (this.state[s] === STATE_FREE) problems.push(`index leads to free slot ${s}`);
        if (n > this.#high) {
          problems.push('cycle in an index chain');
          break;
        }
      }
    }
    if (live !== this.#size || chained !== this.#size) problems.push(`index has ${chained} keys, ${live} live slots, size ${this.#size}`);
    if (live + this.#freeTop !== this.#high) problems.push(`live ${live} + free ${this.#freeTop} slots != ${this.#high} used slot ids`);
    return problems;
  }

  clearAll(): void {
    this.#map.clear();
    this.#size = 0;
    this.#nextSameHash.fill(-1);
    this.state.fill(STATE_FREE);
    this.block.fill(-1);
    this.keys.length = 0;
    this.objs.length = 0;
    this.success.length = 0;
    this.#freeTop = 0;
    this.#high = 0;
  }

  #grow(capacity: number): void {
    const state = new Uint8Array(capacity);
    state.set(this.state);
    const block = new Int32Array(capacity).fill(-1);
    block.set(this.block);
    const bytes = new Float64Array(capacity);
    bytes.set(this.bytes);
    const temporary = new Uint8Array(capacity);
    temporary.set(this.temporary);
    const freeStack = new Int32Array(capacity);
    freeStack.set(this.#freeStack);
    const nextSameHash = new Int32Array(capacity).fill(-1);
    nextSameHash.set(this.#nextSameHash);
    this.#nextSameHash = nextSameHash;
    this.state = state;
    this.block = block;
    this.bytes = bytes;
    this.temporary = temporary;
    this.#freeStack = freeStack;
    this.#onGrow(capacity);
  }
}
