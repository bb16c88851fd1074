import { InvalidArgumentError, type ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { checkGenerations, checkKeys } from './batch-checks.js';
import { OP_FINISH_READ, OP_RESERVE_READ } from './l1-metrics.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_IN_WRONG_STATE, KEY_NOT_EXIST, KEY_NOT_READABLE, LOCK_NOT_HELD, SUCCESS, type L1State } from './l1-state.js';
import { W_READ_FINISHED, W_RESERVED_READ } from './listener-dispatch.js';
import type { MemoryObj } from './memory-obj.js';
import { STATE_READY } from './slot-table.js';

// The read path: taking, checking and releasing read locks. The batch calls and the single-key
// calls share the per-key steps below, so both keep the same result codes and bookkeeping.

/** One key's reserveRead step on a found (or absent, -1) slot. */
export function lockOne(st: L1State, s: SlotId, count: number, now: number): L1KeyResult<MemoryObj> {
  if (s < 0) {
    st.stats.missesNotFound++;
    return KEY_NOT_EXIST;
  }
  if (st.slots.stateOf(s) !== STATE_READY) {
    st.stats.missesWriteLocked++;
    return KEY_NOT_READABLE;
  }
  if (st.locks.readCount(s) === 0) st.readLockedFirst(s);
  st.locks.lockRead(s, count, now);
  return st.slots.success[s]!;
}

/** One key's finishRead step; a temporary object goes when its last reader leaves. */
export function releaseOne(st: L1State, s: SlotId, count: number, generation: number | undefined, now: number): L1KeyResult<void> {
  if (s < 0) return KEY_NOT_EXIST;
  const locks = st.locks;
  const slots = st.slots;
  if (generation !== undefined && generation !== locks.generation(s)) return LOCK_NOT_HELD;
  if (slots.stateOf(s) !== STATE_READY || locks.readCount(s) === 0) return KEY_IN_WRONG_STATE;
  st.stats.reads++;
  if (locks.unlockRead(s, count) > 0) return SUCCESS;
  st.readUnlocked(s);
  if (slots.temporaryOf(s) === 1) {
    st.stats.evictedTemporary++;
    st.dispatch.queueEvicted(slots.keys[s]!, 'temporary_released');
    st.removeObject(s);
  } else {
    if (st.metrics.sampleReuse()) st.metrics.recordReuse(now - slots.usedAt(s));
    slots.markUsed(s, now);
    // A read is a use: the hot end of an LRU list, a CLOCK reference bit.
    st.policy.onAccess(s);
  }
  return SUCCESS;
}

export function reserveRead(st: L1State, keys: readonly ObjectKey[], count: number): L1KeyResult<MemoryObj>[] {
  const start = st.begin('reserveRead', OP_RESERVE_READ, keys);
  const now = st.now();
  const n = keys.length;
  const results = new Array<L1KeyResult<MemoryObj>>(n);
  for (let i = 0; i < n; i++) results[i] = lockOne(st, st.find(keys[i]!, now) as SlotId, count, now);
  st.end(OP_RESERVE_READ, start, W_RESERVED_READ, 'onL1KeysReservedRead', keys, results);
  return results;
}

export function finishRead(st: L1State, keys: readonly ObjectKey[], count: number, generations: ArrayLike<number> | undefined): L1KeyResult<void>[] {
  const start = st.begin('finishRead', OP_FINISH_READ, keys, generations);
  const now = st.now();
  const n = keys.length;
  const results = new Array<L1KeyResult<void>>(n);
  for (let i = 0; i < n; i++) results[i] = releaseOne(st, st.find(keys[i]!, now) as SlotId, count, generations === undefined ? undefined : generations[i]!, now);
  st.end(OP_FINISH_READ, start, W_READ_FINISHED, 'onL1KeysReadFinished', keys, results);
  return results;
}

export function unsafeRead(st: L1State, keys: readonly ObjectKey[], generations: ArrayLike<number> | undefined): L1KeyResult<MemoryObj>[] {
  st.assertOpen('unsafeRead');
  checkKeys(keys);
  checkGenerations(keys, generations);
  const now = st.now();
  const results = new Array<L1KeyResult<MemoryObj>>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const s = st.find(keys[i]!, now) as SlotId;
    if (s < 0) results[i] = KEY_NOT_EXIST;
    else if (generations !== undefined && generations[i] !== st.locks.generation(s)) results[i] = LOCK_NOT_HELD;
    else if (st.slots.stateOf(s) !== STATE_READY || !st.locks.readLocked(s)) results[i] = KEY_NOT_READABLE;
    else results[i] = st.slots.success[s]!;
  }
  st.dispatch.flushEvicted();
  return results;
}

/** Checked before a single-key call changes anything (the batch calls check with checkKeys). */
export function checkKey(key: ObjectKey): void {
  if (key === null || typeof key !== 'object' || typeof key.chunkHash !== 'string') {
    throw new InvalidArgumentError('key', 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey()');
  }
}
