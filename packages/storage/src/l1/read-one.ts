import { InvalidArgumentError, type ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { OP_FINISH_READ, OP_RESERVE_READ } from './l1-metrics.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_NOT_EXIST, SUCCESS, type L1State } from './l1-state.js';
import { W_READ_FINISHED, W_RESERVED_READ } from './listener-dispatch.js';
import type { MemoryObj } from './memory-obj.js';
import { checkKey, lockOne, releaseOne } from './read-path.js';
import { F_BLOCK_BYTES, F_LOCK_EXPIRY, F_STRIDE, F_USED_AT, I_READ_COUNT, I_STATE, I_STRIDE, I_TEMPORARY, STATE_READY } from './slot-table.js';

// The single-key read calls, the hot path of a cache get. The common case (the object is ready,
// no lock has expired, no generation to compare, not the last reader of a temporary object) is
// written out over the slot's record; every other case goes to a function of its own through the
// per-key steps the batch calls use (read-path.ts), so results and bookkeeping are the same by
// construction (the L1 model test runs both against one model). The common case is kept under
// V8's bytecode limit for inlining (460 bytes), so a caller's loop compiles it in place.

export function reserveReadOne(st: L1State, key: ObjectKey, count: number): L1KeyResult<MemoryObj> {
  if (st.closed) st.assertOpen('reserveReadOne');
  if (key === null || typeof key !== 'object' || typeof key.chunkHash !== 'string') checkKey(key);
  const start = st.metrics.startBatch(OP_RESERVE_READ);
  const now = st.now();
  const slots = st.slots;
  const s = slots.find(key);
  if (s >= 0) {
    const ints = slots.ints;
    const floats = slots.floats;
    const ib = s * I_STRIDE;
    const fb = s * F_STRIDE;
    const readers = ints[ib + I_READ_COUNT]!;
    // Ready, and its read locks (if any) not expired: lock in place.
    if (ints[ib + I_STATE] === STATE_READY && (readers === 0 || floats[fb + F_LOCK_EXPIRY]! > now)) {
      // The first lock (st.readLockedFirst): the object stays in the policy, no longer evictable.
      if (readers === 0) {
        st.readLocked++;
        st.evictableBytes -= floats[fb + F_BLOCK_BYTES]!;
      }
      ints[ib + I_READ_COUNT] = readers + count;
      floats[fb + F_LOCK_EXPIRY] = now + st.locks.readTtlMs;
      const result = slots.success[s]!;
      if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_RESERVE_READ, start, W_RESERVED_READ, 'onL1KeysReservedRead', key, result);
      return result;
    }
  }
  return reserveReadRest(st, key, count, s, start, now);
}

/** reserveReadOne when the key is absent, not ready, or its read locks expired. */
function reserveReadRest(st: L1State, key: ObjectKey, count: number, s: number, start: number, now: number): L1KeyResult<MemoryObj> {
  let result: L1KeyResult<MemoryObj>;
  if (s < 0) {
    st.stats.missesNotFound++;
    result = KEY_NOT_EXIST;
  } else result = lockOne(st, st.find(key, now) as SlotId, count, now);
  if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_RESERVE_READ, start, W_RESERVED_READ, 'onL1KeysReservedRead', key, result);
  return result;
}

export function finishReadOne(st: L1State, key: ObjectKey, count: number, generation: number | undefined): L1KeyResult<void> {
  if (st.closed) st.assertOpen('finishReadOne');
  if (key === null || typeof key !== 'object' || typeof key.chunkHash !== 'string') checkKey(key);
  if (generation !== undefined) return finishReadWithGeneration(st, key, count, generation);
  const start = st.metrics.startBatch(OP_FINISH_READ);
  const now = st.now();
  const slots = st.slots;
  const s = slots.find(key);
  if (s >= 0) {
    const ints = slots.ints;
    const floats = slots.floats;
    const ib = s * I_STRIDE;
    const fb = s * F_STRIDE;
    const readers = ints[ib + I_READ_COUNT]!;
    // Ready, read-locked, not expired, and not the last reader of a temporary object: release in place.
    if (readers > 0 && ints[ib + I_STATE] === STATE_READY && floats[fb + F_LOCK_EXPIRY]! > now && (readers > count || ints[ib + I_TEMPORARY] === 0)) {
      st.stats.reads++;
      if (readers > count) ints[ib + I_READ_COUNT] = readers - count;
      else {
        ints[ib + I_READ_COUNT] = 0;
        lastReaderLeft(st, s as SlotId, floats, fb, now);
      }
      if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_FINISH_READ, start, W_READ_FINISHED, 'onL1KeysReadFinished', key, SUCCESS);
      return SUCCESS;
    }
  }
  return finishReadRest(st, key, count, undefined, start, now);
}

/** The last read lock of a ready object was released (st.readUnlocked), and that read is a use. */
function lastReaderLeft(st: L1State, s: SlotId, floats: Float64Array, fb: number, now: number): void {
  st.readLocked--;
  st.evictableBytes += floats[fb + F_BLOCK_BYTES]!;
  if (st.metrics.sampleReuse()) st.metrics.recordReuse(now - floats[fb + F_USED_AT]!);
  floats[fb + F_USED_AT] = now;
  st.policy.onAccess(s);
}

/** finishReadOne with a lock generation to compare. */
function finishReadWithGeneration(st: L1State, key: ObjectKey, count: number, generation: number): L1KeyResult<void> {
  if (typeof generation !== 'number') {
    throw new InvalidArgumentError('generation', 'expected the lock generation generationOf() returned right after the lock was taken');
  }
  return finishReadRest(st, key, count, generation, st.metrics.startBatch(OP_FINISH_READ), st.now());
}

/** finishReadOne through the batch calls' step (releaseOne): every case the fast path does not take. */
function finishReadRest(st: L1State, key: ObjectKey, count: number, generation: number | undefined, start: number, now: number): L1KeyResult<void> {
  const result = releaseOne(st, st.find(key, now) as SlotId, count, generation, now);
  if (st.dispatch.wanted !== 0 || start !== 0) st.endOne(OP_FINISH_READ, start, W_READ_FINISHED, 'onL1KeysReadFinished', key, result);
  return result;
}
