import { InvalidArgumentError, type ObjectKey } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { OP_FINISH_WRITE } from './l1-metrics.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_IN_WRONG_STATE, KEY_NOT_EXIST, LOCK_NOT_HELD, SUCCESS, type L1State } from './l1-state.js';
import { W_RESERVED_READ, W_WRITE_FINISHED } from './listener-dispatch.js';
import { checkKey } from './read-path.js';
import { STATE_READY, STATE_WRITE_LOCKED } from './slot-table.js';

// Publishing a reservation: write-locked → ready (evictable), or → read-locked in the same step.

/** One key's finishWrite step; `readLocks` > 0 hands the object straight to a reader. */
function publishOne(st: L1State, s: SlotId, readLocks: number, generation: number | undefined, now: number): L1KeyResult<unknown> {
  if (s < 0) return KEY_NOT_EXIST;
  if (generation !== undefined && generation !== st.locks.generation(s)) return LOCK_NOT_HELD;
  const slots = st.slots;
  if (slots.stateOf(s) !== STATE_WRITE_LOCKED) return KEY_IN_WRONG_STATE;
  slots.setState(s, STATE_READY);
  st.writeLocked--;
  st.locks.unlockWrite(s);
  st.stats.writes++;
  slots.markWritten(s, now);
  if (st.metrics.awaitingReuse) st.metrics.noteRewritten(slots.keys[s]!.chunkHash, now);
  // Readable from now on, so tracked by the policy; evictable only once unlocked.
  if (readLocks > 0) {
    st.locks.lockRead(s, readLocks, now);
    st.readLocked++;
    st.policy.onInsert(s);
    return slots.success[s]!;
  }
  st.enpolicy(s);
  return SUCCESS;
}

export function finishWrite(st: L1State, keys: readonly ObjectKey[], readLocks: number, method: string, operation: number, generations: ArrayLike<number> | undefined): L1KeyResult<unknown>[] {
  const start = st.begin(method, operation, keys, generations);
  const now = st.now();
  const n = keys.length;
  const results = new Array<L1KeyResult<unknown>>(n);
  const slots = st.slots;
  let written: ObjectKey[] | undefined;
  const wantKeys = st.dispatch.wants(W_WRITE_FINISHED);
  for (let i = 0; i < n; i++) {
    const s = st.find(keys[i]!, now) as SlotId;
    const r = publishOne(st, s, readLocks, generations === undefined ? undefined : generations[i]!, now);
    results[i] = r;
    // Temporary objects are never reported as written.
    if (wantKeys && r.code === 'SUCCESS' && slots.temporaryOf(s) === 0) (written ??= []).push(slots.keys[s]!);
  }
  if (written !== undefined) st.dispatch.emit('onL1KeysWriteFinished', written);
  st.end(operation, start, readLocks > 0 ? W_RESERVED_READ : 0, 'onL1KeysReservedRead', keys, results);
  return results;
}

export function finishWriteOne(st: L1State, key: ObjectKey, generation: number | undefined): L1KeyResult<void> {
  st.assertOpen('finishWriteOne');
  checkKey(key);
  if (generation !== undefined && typeof generation !== 'number') {
    throw new InvalidArgumentError('generation', 'expected the lock generation generationOf() returned right after reserveWriteOne');
  }
  const start = st.metrics.startBatch(OP_FINISH_WRITE);
  const now = st.now();
  const s = st.find(key, now) as SlotId;
  const result = publishOne(st, s, 0, generation, now) as L1KeyResult<void>;
  if (result === SUCCESS && st.slots.temporaryOf(s) === 0 && st.dispatch.wants(W_WRITE_FINISHED)) st.dispatch.emit('onL1KeysWriteFinished', [st.slots.keys[s]!]);
  st.endOne(OP_FINISH_WRITE, start, 0, 'onL1KeysReservedRead', key, result);
  return result;
}
