import type { ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import type { BlockId } from './allocator.js';
import { keyChargeBytes } from './key-charge.js';
import type { L1KeyResult } from './l1-result.js';
import type { MemoryObj } from './memory-obj.js';

/** The slot holds nothing. */
export const STATE_FREE = 0;
/** Reserved by a writer: memory allocated, contents not yet valid. */
export const STATE_WRITE_LOCKED = 1;
/** Written and readable; read-locked when its read count (LockTable) is above zero. */
export const STATE_READY = 2;

const INITIAL_CAPACITY = 1024;

// One 64-byte record per slot (one cache line when the buffer is line-aligned, which large
// ArrayBuffers are): everything a read lock and its release touch sits in it, the lock fields
// (LockTable) included. Int32 fields first, then Float64 fields, over one ArrayBuffer.
/** Record size in bytes, and the strides of the two views over it. */
export const RECORD_BYTES = 64;
export const I_STRIDE = RECORD_BYTES / 4;
export const F_STRIDE = RECORD_BYTES / 8;
export const I_STATE = 0;
export const I_TEMPORARY = 1;
const I_BLOCK = 2;
const I_NEXT_SAME_HASH = 3;
/** Read-lock count (LockTable's). */
export const I_READ_COUNT = 4;
/** 1 when the slot heads its chain of keys sharing a chunk hash (the Map's value). */
const I_HEAD = 5;
/** Expiry of the write lock while write-locked, of the read locks while read-locked (LockTable's). */
export const F_LOCK_EXPIRY = 3;
/** Lock generation (LockTable's). */
export const F_GENERATION = 4;
export const F_BLOCK_BYTES = 5;
export const F_USED_AT = 6;
const F_BYTES = 7;

/**
 * The object index: key → slot id, and per slot its state, allocator block, sizes and locks in one
 * packed record, with a typed-array stack of free slots (the lru-cache layout). Once warm,
 * inserting and removing allocate nothing but the Map entry. A slot's fields sit side by side (one
 * record rather than one array per field or per module), so a lock and its release on a large L1
 * touch one cache line of bookkeeping. When the write finished is the only cold field, kept apart.
 *
 * The Map is keyed by the chunk hash alone, not by the full encoded key: building and hashing a
 * fresh ~60-character string per lookup cost more than everything else in a small-object
 * operation. Keys that share a chunk hash (other ranks, models or salts of the same prefix) are
 * chained and told apart by comparing their other fields.
 */
export class SlotTable {
  #i: Int32Array;
  #f: Float64Array;
  /** When each object's write finished (only eviction sampling reads it). */
  #writtenAt: Float64Array;
  readonly keys: (ObjectKey | undefined)[] = [];
  readonly objs: (MemoryObj | undefined)[] = [];
  /** The SUCCESS result handed out for the object, made once per object rather than per call. */
  readonly success: (L1KeyResult<MemoryObj> | undefined)[] = [];
  readonly #map = new Map<string, number>();
  #size = 0;
  #keyBytes = 0;
  #freeStack: Int32Array;
  #freeTop = 0;
  #high = 0;
  #capacity: number;
  #writeLockedBytes = 0;
  #lastKey: ObjectKey | undefined;
  #lastSlot = 0;
  /** The key of the last find that met no key of its chunk hash at all (insert then skips the Map probe). */
  #missKey: ObjectKey | undefined;
  readonly #onGrow: (capacity: number) => void;

  constructor(onGrow: (capacity: number) => void, initialCapacity = INITIAL_CAPACITY) {
    this.#onGrow = onGrow;
    this.#capacity = initialCapacity;
    [this.#i, this.#f] = SlotTable.#freshRecords(initialCapacity);
    this.#writtenAt = new Float64Array(initialCapacity);
    this.#freeStack = new Int32Array(initialCapacity);
    onGrow(initialCapacity);
  }

  static #freshRecords(capacity: number): [Int32Array, Float64Array] {
    const buffer = new ArrayBuffer(capacity * RECORD_BYTES);
    const ints = new Int32Array(buffer);
    for (let s = 0; s < capacity; s++) {
      ints[s * I_STRIDE + I_BLOCK] = -1;
      ints[s * I_STRIDE + I_NEXT_SAME_HASH] = -1;
    }
    return [ints, new Float64Array(buffer)];
  }

  /** The records' Int32 view (LockTable's fields included); replaced when the table grows. */
  get ints(): Int32Array {
    return this.#i;
  }

  /** The records' Float64 view; replaced when the table grows. */
  get floats(): Float64Array {
    return this.#f;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Highest slot id ever used + 1 (scans stop here). */
  get high(): number {
    return this.#high;
  }

  get size(): number {
    return this.#size;
  }

  /** Block bytes of the write-locked objects (reserved, not yet readable). */
  get writeLockedBytes(): number {
    return this.#writeLockedBytes;
  }

  stateOf(slot: number): number {
    return this.#i[slot * I_STRIDE + I_STATE]!;
  }

  setState(slot: number, state: number): void {
    const i = slot * I_STRIDE + I_STATE;
    const was = this.#i[i];
    if (was === STATE_WRITE_LOCKED && state !== STATE_WRITE_LOCKED) this.#writeLockedBytes -= this.blockBytesOf(slot);
    else if (was !== STATE_WRITE_LOCKED && state === STATE_WRITE_LOCKED) this.#writeLockedBytes += this.blockBytesOf(slot);
    this.#i[i] = state;
  }

  /** 1 for a temporary object, else 0. */
  temporaryOf(slot: number): number {
    return this.#i[slot * I_STRIDE + I_TEMPORARY]!;
  }

  setTemporary(slot: number, temporary: number): void {
    this.#i[slot * I_STRIDE + I_TEMPORARY] = temporary;
  }

  /** The allocator block, or -1 while none is assigned. */
  blockOf(slot: number): BlockId {
    return this.#i[slot * I_STRIDE + I_BLOCK]! as BlockId;
  }

  /** Assigns a block (or -1) and the block's size, kept here so eviction accounting needs no allocator lookup. */
  setBlock(slot: number, block: number, blockBytes: number): void {
    if (this.stateOf(slot) === STATE_WRITE_LOCKED) this.#writeLockedBytes += blockBytes - this.blockBytesOf(slot);
    this.#i[slot * I_STRIDE + I_BLOCK] = block;
    this.#f[slot * F_STRIDE + F_BLOCK_BYTES] = blockBytes;
  }

  blockBytesOf(slot: number): number {
    return this.#f[slot * F_STRIDE + F_BLOCK_BYTES]!;
  }

  /** Bytes the caller asked for (the layout's size; the block may be larger). */
  bytesOf(slot: number): number {
    return this.#f[slot * F_STRIDE + F_BYTES]!;
  }

  setBytes(slot: number, bytes: number): void {
    this.#f[slot * F_STRIDE + F_BYTES] = bytes;
  }

  /** When the object's write finished (lock clock, ms). */
  writtenAt(slot: number): number {
    return this.#writtenAt[slot]!;
  }

  /** When the object was last written, released by its last reader or touched (lock clock, ms). */
  usedAt(slot: number): number {
    return this.#f[slot * F_STRIDE + F_USED_AT]!;
  }

  markWritten(slot: number, now: number): void {
    this.#writtenAt[slot] = now;
    this.#f[slot * F_STRIDE + F_USED_AT] = now;
  }

  markUsed(slot: number, now: number): void {
    this.#f[slot * F_STRIDE + F_USED_AT] = now;
  }

  /** What the live keys are charged (keyChargeBytes), against `l1.maxKeyBytes`. */
  get keyBytes(): number {
    return this.#keyBytes;
  }

  /**
   * The slot holding `key`, or -1. The slot last found is remembered with its key object: a call
   * on the same key object right after (a read lock, then its release) skips the index. `keys[s]`
   * still being that very object proves the slot still holds the key (remove clears it).
   */
  find(key: ObjectKey): SlotId | -1 {
    if (key === this.#lastKey && this.keys[this.#lastSlot] === key) return this.#lastSlot as SlotId;
    const head = this.#map.get(key.chunkHash);
    if (head === undefined) {
      this.#missKey = key;
      return -1;
    }
    for (let s = head; s >= 0; s = this.#i[s * I_STRIDE + I_NEXT_SAME_HASH]!) {
      const k = this.keys[s]!;
      if (k === key || (k.kvRank === key.kvRank && k.modelName === key.modelName && k.cacheSalt === key.cacheSalt)) {
        this.#lastKey = key;
        this.#lastSlot = s;
        return s as SlotId;
      }
    }
    return -1;
  }

  /** Creates a slot for a key that has none; state and block are set by the caller. */
  insert(key: ObjectKey): SlotId {
    let slot: number;
    if (this.#freeTop > 0) slot = this.#freeStack[--this.#freeTop]!;
    else {
      if (this.#high === this.#capacity) this.#grow(this.#capacity * 2);
      slot = this.#high++;
    }
    this.keys[slot] = key;
    this.#keyBytes += keyChargeBytes(key);
    // Right after a find of this key that met no key of its hash (nothing was inserted since: an
    // insert clears #missKey), there is no chain to join.
    const head = key === this.#missKey ? undefined : this.#map.get(key.chunkHash);
    this.#missKey = undefined;
    if (head === undefined) this.#i[slot * I_STRIDE + I_NEXT_SAME_HASH] = -1;
    else {
      this.#i[slot * I_STRIDE + I_NEXT_SAME_HASH] = head;
      this.#i[head * I_STRIDE + I_HEAD] = 0;
    }
    this.#i[slot * I_STRIDE + I_HEAD] = 1;
    this.#map.set(key.chunkHash, slot);
    this.#size++;
    this.#lastKey = key;
    this.#lastSlot = slot;
    return slot as SlotId;
  }

  /** Forgets the slot's key and returns the slot to the free stack. */
  remove(slot: SlotId): void {
    const ints = this.#i;
    const key = this.keys[slot]!;
    const hash = key.chunkHash;
    this.#keyBytes -= keyChargeBytes(key);
    const base = slot * I_STRIDE;
    const next = ints[base + I_NEXT_SAME_HASH]!;
    if (ints[base + I_STATE] === STATE_WRITE_LOCKED) this.#writeLockedBytes -= this.blockBytesOf(slot);
    if (ints[base + I_HEAD] === 1) {
      if (next < 0) this.#map.delete(hash);
      else {
        this.#map.set(hash, next);
        ints[next * I_STRIDE + I_HEAD] = 1;
      }
    } else {
      let prev = this.#map.get(hash)!;
      while (ints[prev * I_STRIDE + I_NEXT_SAME_HASH] !== slot) prev = ints[prev * I_STRIDE + I_NEXT_SAME_HASH]!;
      ints[prev * I_STRIDE + I_NEXT_SAME_HASH] = next;
    }
    ints[base + I_STATE] = STATE_FREE;
    ints[base + I_TEMPORARY] = 0;
    ints[base + I_BLOCK] = -1;
    ints[base + I_NEXT_SAME_HASH] = -1;
    ints[base + I_HEAD] = 0;
    // The lock fields were cleared by LockTable.clear; the generation it drew stays.
    const f = slot * F_STRIDE;
    this.#f[f + F_BLOCK_BYTES] = 0;
    this.#f[f + F_USED_AT] = 0;
    this.#f[f + F_BYTES] = 0;
    this.#writtenAt[slot] = 0;
    this.#size--;
    this.keys[slot] = undefined;
    this.objs[slot] = undefined;
    this.success[slot] = undefined;
    this.#freeStack[this.#freeTop++] = slot;
  }

  /** Problems in the index itself (map ↔ chains ↔ slots). */
  check(): string[] {
    const problems: string[] = [];
    let live = 0;
    for (let s = 0; s < this.#high; s++) {
      if (this.stateOf(s) === STATE_FREE) continue;
      live++;
      const key = this.keys[s];
      if (key === undefined || this.find(key) !== s) problems.push(`slot ${s} is live but the index does not lead to it`);
      else if ((this.#map.get(key.chunkHash) === s) !== (this.#i[s * I_STRIDE + I_HEAD] === 1)) problems.push(`slot ${s}: chain head flag disagrees with the index`);
    }
    let chained = 0;
    for (const head of this.#map.values()) {
      for (let s = head, n = 0; s >= 0; s = this.#i[s * I_STRIDE + I_NEXT_SAME_HASH]!, n++) {
        chained++;
        if (this.stateOf(s) === STATE_FREE) problems.push(`index leads to free slot ${s}`);
        if (n > this.#high) {
          problems.push('cycle in an index chain');
          break;
        }
      }
    }
    if (live !== this.#size || chained !== this.#size) problems.push(`index has ${chained} keys, ${live} live slots, size ${this.#size}`);
    if (live + this.#freeTop !== this.#high) problems.push(`live ${live} + free ${this.#freeTop} slots != ${this.#high} used slot ids`);
    let wlBytes = 0;
    for (let s = 0; s < this.#high; s++) if (this.stateOf(s) === STATE_WRITE_LOCKED) wlBytes += this.blockBytesOf(s);
    if (wlBytes !== this.#writeLockedBytes) problems.push(`write-locked bytes ${this.#writeLockedBytes} recorded, ${wlBytes} found`);
    return problems;
  }

  clearAll(): void {
    this.#map.clear();
    this.#lastKey = undefined;
    this.#missKey = undefined;
    this.#size = 0;
    this.#keyBytes = 0;
    this.#writeLockedBytes = 0;
    [this.#i, this.#f] = SlotTable.#freshRecords(this.#capacity);
    this.#writtenAt.fill(0);
    this.keys.length = 0;
    this.objs.length = 0;
    this.success.length = 0;
    this.#freeTop = 0;
    this.#high = 0;
  }

  #grow(capacity: number): void {
    const [ints, floats] = SlotTable.#freshRecords(capacity);
    new Uint8Array(ints.buffer).set(new Uint8Array(this.#i.buffer));
    const writtenAt = new Float64Array(capacity);
    writtenAt.set(this.#writtenAt);
    const freeStack = new Int32Array(capacity);
    freeStack.set(this.#freeStack);
    this.#i = ints;
    this.#f = floats;
    this.#writtenAt = writtenAt;
    this.#freeStack = freeStack;
    this.#capacity = capacity;
    this.#onGrow(capacity);
  }
}
