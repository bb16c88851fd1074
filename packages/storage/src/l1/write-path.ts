import { InvalidArgumentError, MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { NO_BLOCK, type BlockId } from './allocator.js';
import { oldBlockOf } from './batch-checks.js';
import { OP_ABORT_WRITE, OP_RESERVE_WRITE } from './l1-metrics.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_IN_WRONG_STATE, KEY_NOT_EXIST, KEY_NOT_WRITABLE, LOCK_NOT_HELD, OUT_OF_MEMORY, SUCCESS, type L1State } from './l1-state.js';
import { W_RESERVED_WRITE, W_WRITE_ABORTED } from './listener-dispatch.js';
import type { MemoryObj } from './memory-obj.js';
import { STATE_READY, STATE_WRITE_LOCKED } from './slot-table.js';

// The write path: reservations (new keys, updates in place, allocation with eviction on demand)
// and their end (published, or aborted). Publishing (finishWrite) lives in finish-write.ts.

/** `new`: only keys not present; `update`: only keys present and ready; `all`: both. */
export type WriteMode = 'new' | 'update' | 'all';

/** Options of one reserveWrite call. */
export interface ReserveWriteOptions {
  /** Temporary objects are freed when their last reader finishes, and are never reported as written. */
  temporary?: boolean;
  /**
   * Reserve what fits, in key order: new keys get memory until the first that cannot fit (even
   * after eviction); it and every later new key answer OUT_OF_MEMORY. Without it (LMCache's
   * contract) the new keys of a batch all succeed or all answer OUT_OF_MEMORY.
   */
  partial?: boolean;
}

const WRITE_MODES: ReadonlySet<string> = new Set(['new', 'update', 'all']);

/** New keys enter the index, so they must be well formed; checked before anything changes. */
function checkNewKey(k: ObjectKey, name: string): void {
  if (k === null || typeof k !== 'object' || typeof k.chunkHash !== 'string' || typeof k.modelName !== 'string' || typeof k.kvRank !== 'number' || typeof k.cacheSalt !== 'string') {
    throw new InvalidArgumentError(name, 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey()');
  }
}

function checkWriteArgs(layout: MemoryLayout, mode: WriteMode): void {
  if (!(layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance');
  if (!WRITE_MODES.has(mode)) throw new InvalidArgumentError('mode', `expected 'new', 'update' or 'all', got ${JSON.stringify(mode)}`);
}

/** The live slot of `key` for a write (an expired lock reclaimed first), or -1. */
function liveSlot(st: L1State, key: ObjectKey, now: number): number {
  const s = st.slots.find(key);
  return s >= 0 && !st.reclaimIfExpired(s as SlotId, now) ? -1 : s;
}

/** A fresh write-locked slot for a new key (its block is set by the caller). */
function claimNew(st: L1State, key: ObjectKey, byteSize: number, temporary: number, now: number): SlotId {
  const slots = st.slots;
  const s = slots.insert(key);
  slots.setState(s, STATE_WRITE_LOCKED);
  slots.setBytes(s, byteSize);
  slots.setTemporary(s, temporary);
  st.locks.lockWrite(s, now);
  st.writeLocked++;
  return s;
}

/** A ready object may be rewritten in place when it is unlocked and not temporary. */
function updatable(st: L1State, s: SlotId): boolean {
  return st.slots.stateOf(s) === STATE_READY && !st.locks.readLocked(s) && st.slots.temporaryOf(s) === 0;
}

/** Ready and unlocked → write-locked again (an update in place). */
function relock(st: L1State, s: SlotId, temporary: number, now: number): void {
  st.unpolicy(s);
  st.slots.setState(s, STATE_WRITE_LOCKED);
  st.slots.setTemporary(s, temporary);
  st.locks.lockWrite(s, now);
  st.writeLocked++;
}

/**
 * Allocates a block of `byteSize`, evicting the coldest objects while it does not fit; NO_BLOCK
 * when nothing more can be evicted. The call's on-demand eviction run is counted once.
 */
function allocateEvicting(st: L1State, byteSize: number): number {
  const allocator = st.allocator;
  let block = allocator.allocate(byteSize);
  while (block === NO_BLOCK) {
    const victim = st.nextVictim();
    if (victim < 0) break;
    if (!st.onDemandRan) {
      st.onDemandRan = true;
      st.stats.evictionRunsOnDemand++;
    }
    st.evictOne(victim as SlotId, 'on_demand');
    block = allocator.allocate(byteSize);
  }
  return block;
}

export function reserveWrite(st: L1State, keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode, options: ReserveWriteOptions): L1KeyResult<MemoryObj>[] {
  st.assertOpen('reserveWrite');
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'expected an array of ObjectKey');
  for (let i = 0; i < keys.length; i++) checkNewKey(keys[i]!, `keys[${i}]`);
  checkWriteArgs(layout, mode);
  const start = st.metrics.startBatch(OP_RESERVE_WRITE);
  const now = st.now();
  const temporary = options.temporary === true ? 1 : 0;
  const byteSize = layout.byteSize;
  const n = keys.length;
  const results = new Array<L1KeyResult<MemoryObj>>(n);
  const slots = st.slots;
  // Keys that need a block: new keys, and updates whose layout changed size.
  let pending: number[] | undefined;
  let replaced: number[] | undefined; // pairs: slot, old block
  let needBytes = 0;
  st.onDemandRan = false;

  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    const slot = liveSlot(st, key, now);
    if (slot < 0) {
      if (mode === 'update') results[i] = KEY_NOT_WRITABLE;
      else if (!st.roomForKey(key)) {
        results[i] = OUT_OF_MEMORY;
        st.stats.allocationFailures++;
      } else {
        // Take the slot now so a duplicate key later in the batch sees it write-locked.
        (pending ??= []).push(i, claimNew(st, key, byteSize, temporary, now));
        needBytes += st.allocator.roundUp(byteSize);
      }
      continue;
    }
    const s = slot as SlotId;
    if (mode === 'new' || !updatable(st, s)) {
      results[i] = KEY_NOT_WRITABLE;
      continue;
    }
    relock(st, s, temporary, now);
    const obj = slots.objs[s]!;
    if (obj.layout.byteSize === byteSize && slots.blockBytesOf(s) >= byteSize) {
      if (obj.layout !== layout && !obj.layout.equals(layout)) st.setObj(s, key, layout, slots.blockOf(s));
      results[i] = slots.success[s]!;
    } else {
      (replaced ??= []).push(s, slots.blockOf(s));
      slots.setBlock(s, -1, 0);
      slots.setBytes(s, byteSize);
      (pending ??= []).push(i, s);
      needBytes += st.allocator.roundUp(byteSize);
    }
  }

  if (pending !== undefined) {
    const allocated = allocateAll(st, pending, needBytes, byteSize, options.partial === true);
    for (let p = 0; p < pending.length; p += 2) {
      const i = pending[p]!;
      const s = pending[p + 1]! as SlotId;
      const oldBlock = replaced === undefined ? -1 : oldBlockOf(replaced, s);
      if (p / 2 < allocated) {
        st.setObj(s, keys[i]!, layout, slots.blockOf(s));
        results[i] = slots.success[s]!;
        if (oldBlock >= 0) st.allocator.free(oldBlock as BlockId);
      } else {
        results[i] = OUT_OF_MEMORY;
        st.stats.allocationFailures++;
        rollback(st, s, oldBlock);
      }
    }
  }
  st.runWatermark();
  st.end(OP_RESERVE_WRITE, start, W_RESERVED_WRITE, 'onL1KeysReservedWrite', keys, results);
  return results;
}

/**
 * Allocates blocks for the pending slots in key order, evicting on demand; returns how many got
 * one. All-or-nothing unless `partial`: then it stops at the first key that cannot fit.
 */
function allocateAll(st: L1State, pending: number[], needBytes: number, byteSize: number, partial: boolean): number {
  const allocator = st.allocator;
  const slots = st.slots;
  const blockBytes = allocator.roundUp(byteSize);
  // Blocks of replaced objects are freed only once the call succeeds, so they do not count here.
  // When even evicting everything evictable could not cover the batch, evict nothing.
  if (blockBytes > allocator.segmentBytes) return 0;
  if (!partial && needBytes > allocator.freeBytes + st.evictableBytes) return 0;
  let done = 0;
  for (let p = 1; p < pending.length; p += 2) {
    if (partial && blockBytes > allocator.freeBytes + st.evictableBytes) break;
    const block = allocateEvicting(st, byteSize);
    if (block === NO_BLOCK) break;
    slots.setBlock(pending[p]!, block, allocator.sizeOf(block as BlockId));
    done++;
  }
  if (!partial && done < pending.length / 2) {
    for (let p = 1; p < pending.length; p += 2) {
      const s = pending[p]!;
      if (slots.blockOf(s) >= 0) allocator.free(slots.blockOf(s));
      slots.setBlock(s, -1, 0);
    }
    return 0;
  }
  return done;
}

/** Undoes one failed reservation: a new slot goes away, a replaced object gets its old block back. */
function rollback(st: L1State, s: SlotId, oldBlock: number): void {
  const slots = st.slots;
  if (slots.blockOf(s) >= 0) st.allocator.free(slots.blockOf(s));
  st.writeLocked--;
  if (oldBlock >= 0) {
    slots.setBlock(s, oldBlock, st.allocator.sizeOf(oldBlock as BlockId));
    slots.setBytes(s, slots.objs[s]!.layout.byteSize);
    slots.setState(s, STATE_READY);
    slots.setTemporary(s, 0);
    st.locks.unlockWrite(s);
    st.enpolicy(s);
    return;
  }
  slots.setBlock(s, -1, 0);
  st.locks.clear(s);
  slots.remove(s);
}

/** reserveWrite of one key: the same outcomes as a batch of one, without the batch's arrays. */
export function reserveWriteOne(st: L1State, key: ObjectKey, layout: MemoryLayout, mode: WriteMode, temporary: number): L1KeyResult<MemoryObj> {
  st.assertOpen('reserveWriteOne');
  checkNewKey(key, 'key');
  checkWriteArgs(layout, mode);
  const start = st.metrics.startBatch(OP_RESERVE_WRITE);
  const now = st.now();
  st.onDemandRan = false;
  const result = reserveOneStep(st, key, layout, mode, temporary, now);
  if (result === OUT_OF_MEMORY) st.stats.allocationFailures++;
  st.runWatermark();
  st.endOne(OP_RESERVE_WRITE, start, W_RESERVED_WRITE, 'onL1KeysReservedWrite', key, result);
  return result;
}

function reserveOneStep(st: L1State, key: ObjectKey, layout: MemoryLayout, mode: WriteMode, temporary: number, now: number): L1KeyResult<MemoryObj> {
  const slots = st.slots;
  const allocator = st.allocator;
  const byteSize = layout.byteSize;
  const slot = liveSlot(st, key, now);
  if (slot < 0) {
    if (mode === 'update') return KEY_NOT_WRITABLE;
    if (!st.roomForKey(key)) return OUT_OF_MEMORY;
    const need = allocator.roundUp(byteSize);
    if (need > allocator.segmentBytes || need > allocator.freeBytes + st.evictableBytes) return OUT_OF_MEMORY;
    const block = allocateEvicting(st, byteSize);
    if (block === NO_BLOCK) return OUT_OF_MEMORY;
    const s = claimNew(st, key, byteSize, temporary, now);
    slots.setBlock(s, block, allocator.sizeOf(block as BlockId));
    st.setObj(s, key, layout, block as BlockId);
    return slots.success[s]!;
  }
  const s = slot as SlotId;
  if (mode === 'new' || !updatable(st, s)) return KEY_NOT_WRITABLE;
  const obj = slots.objs[s]!;
  if (obj.layout.byteSize === byteSize && slots.blockBytesOf(s) >= byteSize) {
    relock(st, s, temporary, now);
    if (obj.layout !== layout && !obj.layout.equals(layout)) st.setObj(s, key, layout, slots.blockOf(s));
    return slots.success[s]!;
  }
  // A new size: a new block first (the object is out of the policy, so it cannot evict itself);
  // when none can be had the object stays as it was.
  st.unpolicy(s);
  const need = allocator.roundUp(byteSize);
  const block = need > allocator.segmentBytes || need > allocator.freeBytes + st.evictableBytes ? NO_BLOCK : allocateEvicting(st, byteSize);
  if (block === NO_BLOCK) {
    st.enpolicy(s);
    return OUT_OF_MEMORY;
  }
  relock(st, s, temporary, now);
  allocator.free(slots.blockOf(s));
  slots.setBlock(s, block, allocator.sizeOf(block as BlockId));
  slots.setBytes(s, byteSize);
  st.setObj(s, key, layout, block as BlockId);
  return slots.success[s]!;
}

/** One key's abortWrite step. */
function abortOne(st: L1State, s: SlotId, generation: number | undefined): L1KeyResult<void> {
  if (s < 0) return KEY_NOT_EXIST;
  if (generation !== undefined && generation !== st.locks.generation(s)) return LOCK_NOT_HELD;
  if (st.slots.stateOf(s) !== STATE_WRITE_LOCKED) return KEY_IN_WRONG_STATE;
  st.removeObject(s);
  return SUCCESS;
}

export function abortWrite(st: L1State, keys: readonly ObjectKey[], generations: ArrayLike<number> | undefined): L1KeyResult<void>[] {
  const start = st.begin('abortWrite', OP_ABORT_WRITE, keys, generations);
  const now = st.now();
  const n = keys.length;
  const results = new Array<L1KeyResult<void>>(n);
  for (let i = 0; i < n; i++) results[i] = abortOne(st, st.find(keys[i]!, now) as SlotId, generations === undefined ? undefined : generations[i]!);
  st.end(OP_ABORT_WRITE, start, W_WRITE_ABORTED, 'onL1KeysWriteAborted', keys, results);
  return results;
}

