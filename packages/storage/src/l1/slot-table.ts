import type { EncodedKey, ObjectKey } from '@tierkv/core';
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
 * The object index: encoded key → slot id, and per slot its state, allocator block and size in
 * typed arrays, with a typed-array stack of free slots (the lru-cache layout). Once warm, inserting
 * and removing allocate nothing but the Map entry.
 */
export class SlotTable {
  state: Uint8Array;
  block: Int32Array;
  /** Bytes the caller asked for (the layout's size; the block may be larger). */
  bytes: Float64Array;
  temporary: Uint8Array;
  readonly keys: (ObjectKey | undefined)[] = [];
  readonly encoded: (EncodedKey | undefined)[] = [];
  readonly objs: (MemoryObj | undefined)[] = [];
  /** The SUCCESS result handed out for the object, made once per object rather than per call. */
  readonly success: (L1KeyResult<MemoryObj> | undefined)[] = [];
  readonly #map = new Map<EncodedKey, SlotId>();
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
    return this.#map.size;
  }

  get(encoded: EncodedKey): SlotId | -1 {
    const slot = this.#map.get(encoded);
    return slot === undefined ? -1 : slot;
  }

  /** Creates a slot for a key that has none; state and block are set by the caller. */
  insert(encoded: EncodedKey, key: ObjectKey): SlotId {
    let slot: number;
    if (this.#freeTop > 0) slot = this.#freeStack[--this.#freeTop]!;
    else {
      if (this.#high === this.state.length) this.#grow(this.state.length * 2);
      slot = this.#high++;
    }
    this.keys[slot] = key;
    this.encoded[slot] = encoded;
    this.#map.set(encoded, slot as SlotId);
    return slot as SlotId;
  }

  /** Forgets the slot's key and returns the slot to the free stack. */
  remove(slot: SlotId): void {
    this.#map.delete(this.encoded[slot]!);
    this.state[slot] = STATE_FREE;
    this.block[slot] = -1;
    this.temporary[slot] = 0;
    this.bytes[slot] = 0;
    this.keys[slot] = undefined;
    this.encoded[slot] = undefined;
    this.objs[slot] = undefined;
    this.success[slot] = undefined;
    this.#freeStack[this.#freeTop++] = slot;
  }

  blockOf(slot: SlotId): BlockId {
    return this.block[slot]! as BlockId;
  }

  /** Problems in the index itself (map ↔ slots). */
  check(): string[] {
    const problems: string[] = [];
    let live = 0;
    for (let s = 0; s < this.#high; s++) {
      if (this.state[s] === STATE_FREE) continue;
      live++;
      const enc = this.encoded[s];
      if (enc === undefined || this.#map.get(enc) !== s) problems.push(`slot ${s} is live but the index maps its key elsewhere`);
    }
    if (live !== this.#map.size) problems.push(`index has ${this.#map.size} keys but ${live} live slots`);
    if (live + this.#freeTop !== this.#high) problems.push(`live ${live} + free ${this.#freeTop} slots != ${this.#high} used slot ids`);
    return problems;
  }

  clearAll(): void {
    this.#map.clear();
    this.state.fill(STATE_FREE);
    this.block.fill(-1);
    this.keys.length = 0;
    this.encoded.length = 0;
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
    this.state = state;
    this.block = block;
    this.bytes = bytes;
    this.temporary = temporary;
    this.#freeStack = freeStack;
    this.#onGrow(capacity);
  }
}
