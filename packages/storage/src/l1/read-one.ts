import { InvalidArgumentError, type ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { OP_FINISH_READ, OP_RESERVE_READ } from './l1-metrics.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_NOT_EXIST, SUCCESS, type L1State } from './l1-state.js';
import { W_READ_FINISHED, W_RESERVED_READ } from './listener-dispatch.js';
import type { MemoryObj } from './memory-obj.js';
import { checkKey, lockOne, releaseOne } from './read-path.js';
import { F_BLOCK_BYTES, F_LOCK_EXPIRY, F_STRIDE, I_READ_COUNT, I_STATE, I_STRIDE, I_TEMPORARY, STATE_READY } from './slot-table.js';

// The single-key read calls, the hot path of a cache get. The common case (the object is ready,
// no lock has expired, no listener, no timing sample due, not the last reader of a temporary
// object) is written out over the slot's record, so V8 compiles one short function per call
// instead of a chain of small ones that outruns its inlining budget. Every other case goes
// through the per-key steps the batch calls use (read-path.ts), so results and bookkeeping are
// the same by construction; the L1 model test runs both against one model.

export function reserveReadOne(st: L1State, key: ObjectKey, count: number): L1KeyResult<MemoryObj> {
  if (st.closed) st.assertOpen('reserveReadOne');
  if (key === null || typeof key !== 'object' || typeof key.chunkHash !== 'string') checkKey(key);
  const start = st.metrics.startBatch(OP_RESERVE_READ);
  const now = st.now();
  const slots = st.slots;
  const s = slots.find(key);
  let result: L1KeyResult<MemoryObj>;
  if (s < 0) {
    st.stats.missesNotFound++;
    result = KEY_NOT_EXIST;
  } else {
    const ints = slots.ints;
    const floats = slots.floats;
    const ib = s * I_STRIDE;
    const readers = ints[ib + I_READ_COUNT]!;
    // Ready, and its read locks (if any) not expired: lock in place.
    if (ints[ib + I_STATE] === STATE_READY && (readers === 0 || floats[s * F_STRIDE + F_LOCK_EXPIRY]! > now)) {
      // The first lock: the object stays in the policy, only no longer evictable (readLockedFirst).
      if (readers === 0) {
        st.readLocked++;
        st.evictableBytes -= floats[s * F_STRIDE + F_BLOCK_BYTES]!;
      }
      ints[ib + I_READ_COUNT] = readers + count;
      floats[s * F_STRIDE + F_LOCK_EXPIRY] = now + st.locks.readTtlMs;
      result = slots.success[s]!;
    } else {
      result = lockOne(st, st.find(key, now) as SlotId, count, now);
    }
  }
  if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_RESERVE_READ, start, W_RESERVED_READ, 'onL1KeysReservedRead', key, result);
  return result;
}

export function finishReadOne(st: L1State, key: ObjectKey, count: number, generation: number | undefined): L1KeyResult<void> {
  if (st.closed) st.assertOpen('finishReadOne');
  if (key === null || typeof key !== 'object' || typeof key.chunkHash !== 'string') checkKey(key);
  if (generation !== undefined && typeof generation !== 'number') {
    throw new InvalidArgumentError('generation', 'expected the lock generation generationOf() returned right after the lock was taken');
  }
  const start = st.metrics.startBatch(OP_FINISH_READ);
  const now = st.now();
  const slots = st.slots;
  const s = slots.find(key);
  let result: L1KeyResult<void>;
  const ints = slots.ints;
  const ib = s * I_STRIDE;
  const readers = s < 0 ? 0 : ints[ib + I_READ_COUNT]!;
  // Ready, read-locked, not expired, no generation to compare, and not the last reader of a
  // temporary object: release in place.
  if (readers > 0 && generation === undefined && ints[ib + I_STATE] === STATE_READY && slots.floats[s * F_STRIDE + F_LOCK_EXPIRY]! > now && (readers > count || ints[ib + I_TEMPORARY] === 0)) {
    st.stats.reads++;
    if (readers > count) ints[ib + I_READ_COUNT] = readers - count;
    else {
      ints[ib + I_READ_COUNT] = 0;
      // readUnlocked, then a use for the policy.
      st.readLocked--;
      st.evictableBytes += slots.floats[s * F_STRIDE + F_BLOCK_BYTES]!;
      if (st.metrics.sampleReuse()) st.metrics.recordReuse(now - slots.usedAt(s));
      slots.markUsed(s, now);
      st.policy.onAccess(s as SlotId);
    }
    result = SUCCESS;
  } else {
    result = releaseOne(st, st.find(key, now) as SlotId, count, generation, now);
  }
  if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_FINISH_READ, start, W_READ_FINISHED, 'onL1KeysReadFinished', key, result);
  return result;
}
