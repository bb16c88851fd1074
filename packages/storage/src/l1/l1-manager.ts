import { InvalidArgumentError, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { SlotId } from '../eviction/eviction-policy.js';
import { checkKeys } from './batch-checks.js';
import { finishWrite, finishWriteOne } from './finish-write.js';
import { checkL1 } from './l1-memcheck.js';
import type { L1Listener } from './l1-listener.js';
import { OP_DELETE, OP_FINISH_WRITE, OP_FINISH_WRITE_AND_RESERVE_READ } from './l1-metrics.js';
import { resolveL1Options, type L1Options, type ResolvedL1Options } from './l1-options.js';
import type { L1KeyResult } from './l1-result.js';
import { KEY_IS_LOCKED, KEY_NOT_EXIST, L1State, SUCCESS } from './l1-state.js';
import type { L1Usage, MemcheckReport } from './l1-usage.js';
import { W_DELETED } from './listener-dispatch.js';
import type { MemoryObj } from './memory-obj.js';
import { finishReadOne, reserveReadOne } from './read-one.js';
import { checkKey, finishRead, reserveRead, unsafeRead } from './read-path.js';
import { checkReadLocks } from './read-lock-limit.js';
import { STATE_FREE, STATE_READY, STATE_WRITE_LOCKED } from './slot-table.js';
import { abortWrite, reserveWrite, reserveWriteOne, type ReserveWriteOptions, type WriteMode } from './write-path.js';

export type { L1Options } from './l1-options.js';
export type { L1Usage, MemcheckReport } from './l1-usage.js';
export type { ReserveWriteOptions, WriteMode } from './write-path.js';
export { MAX_READ_LOCKS } from './read-lock-limit.js';

/** What `inspect(key)` reports about one object (debugging and tests). */
export interface L1ObjectState {
  readonly state: 'write_locked' | 'ready' | 'read_locked';
  readonly readLocks: number;
  readonly temporary: boolean;
  readonly byteSize: number;
  /** The layout it was written with (a prefetch of another layout does not take it as a hit). */
  readonly layout: MemoryLayout;
}

/**
 * Byte-bounded in-memory tier: arena + allocator + object state machine + eviction. Synchronous.
 *
 * absent → write-locked (reserveWrite) → ready (finishWrite) → read-locked ×n (reserveRead) →
 * ready (finishRead) → absent (delete, eviction; a temporary object when its last reader finishes).
 * Every call takes a batch and is atomic (nothing else runs between its keys); each key gets its
 * own result code, as in LMCache's L1Manager. The single-key forms (`…One`) behave as a batch of
 * one and return its one result. Locks carry TTLs; an expired write reservation makes the key
 * absent again, an expired read lock drops the read count.
 *
 * This class is the public surface; the work is done in l1-state.ts (shared slot state, lazy lock
 * expiry, eviction), read-path.ts / read-one.ts, write-path.ts and finish-write.ts.
 */
export class L1Manager {
  readonly #st: L1State;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: L1Options, telemetry: TelemetryOptions = {}) {
    const o = resolveL1Options(options);
    this.#st = new L1State(o, options.now === undefined ? undefined : o.now, telemetry);
    if (o.lockSweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => this.sweepExpiredLocks(), o.lockSweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  /** The resolved options (defaults applied). */
  get options(): ResolvedL1Options {
    return this.#st.options;
  }

  /**
   * Reserves memory for each key (write-locked). `temporary` objects are freed after their last
   * read. Allocations of one call succeed or fail together: when the new keys do not fit even after
   * evicting unlocked objects, every one of them answers OUT_OF_MEMORY (LMCache's contract), unless
   * `partial` asks for the leading keys that fit.
   */
  reserveWrite(keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode = 'new', options: ReserveWriteOptions = {}): L1KeyResult<MemoryObj>[] {
    return reserveWrite(this.#st, keys, layout, mode, options);
  }

  /**
   * write-locked → ready. With `generations` (from `generations()` right after reserveWrite), a
   * key whose reservation is no longer that one answers LOCK_NOT_HELD and is left alone.
   */
  finishWrite(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<void>[] {
    return finishWrite(this.#st, keys, 0, 'finishWrite', OP_FINISH_WRITE, generations) as L1KeyResult<void>[];
  }

  /** write-locked → read-locked (count `readLocks`, default 1) in one step; `generations` as finishWrite. */
  finishWriteAndReserveRead(keys: readonly ObjectKey[], readLocks = 1, generations?: ArrayLike<number>): L1KeyResult<MemoryObj>[] {
    return finishWrite(this.#st, keys, checkReadLocks(readLocks), 'finishWriteAndReserveRead', OP_FINISH_WRITE_AND_RESERVE_READ, generations) as L1KeyResult<MemoryObj>[];
  }

  /** write-locked → absent, memory freed (a writer gives up); `generations` as finishWrite. */
  abortWrite(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<void>[] {
    return abortWrite(this.#st, keys, generations);
  }

  /** ready / read-locked → read-locked (count + `readLocks`, default 1). */
  reserveRead(keys: readonly ObjectKey[], readLocks = 1): L1KeyResult<MemoryObj>[] {
    return reserveRead(this.#st, keys, checkReadLocks(readLocks));
  }

  /**
   * The objects of keys the caller already holds read locks on, without taking more (LMCache's
   * unsafe_read): KEY_NOT_READABLE when the key is not read-locked. With `generations`, a key whose
   * read locks are no longer those of that generation (they expired) answers LOCK_NOT_HELD.
   */
  unsafeRead(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<MemoryObj>[] {
    return unsafeRead(this.#st, keys, generations);
  }

  /**
   * read-locked (count - `readLocks`, default 1); a temporary object is freed when its count
   * reaches 0. With `generations` (read right after the lock was taken), a key whose read locks
   * expired since answers LOCK_NOT_HELD and keeps the locks other readers took since.
   */
  finishRead(keys: readonly ObjectKey[], readLocks = 1, generations?: ArrayLike<number>): L1KeyResult<void>[] {
    return finishRead(this.#st, keys, checkReadLocks(readLocks), generations);
  }

  // Single-key calls: the batch call's semantics for one key (same result codes, listeners,
  // metrics under the same operation), without the batch's arrays: a hit allocates nothing.

  /** reserveRead of one key: its object under `readLocks` (default 1) more read locks, or why not. */
  reserveReadOne(key: ObjectKey, readLocks = 1): L1KeyResult<MemoryObj> {
    return reserveReadOne(this.#st, key, readLocks === 1 ? 1 : checkReadLocks(readLocks));
  }

  /** finishRead of one key; `generation` (from generationOf right after the lock) as in finishRead. */
  finishReadOne(key: ObjectKey, readLocks = 1, generation?: number): L1KeyResult<void> {
    return finishReadOne(this.#st, key, readLocks === 1 ? 1 : checkReadLocks(readLocks), generation);
  }

  /** reserveWrite of one key (a batch of one: `partial` makes no difference). */
  reserveWriteOne(key: ObjectKey, layout: MemoryLayout, mode: WriteMode = 'new', options: { temporary?: boolean } = {}): L1KeyResult<MemoryObj> {
    return reserveWriteOne(this.#st, key, layout, mode, options.temporary === true ? 1 : 0);
  }

  /** finishWrite of one key; `generation` (from generationOf right after the reservation) as in finishWrite. */
  finishWriteOne(key: ObjectKey, generation?: number): L1KeyResult<void> {
    return finishWriteOne(this.#st, key, generation);
  }

  /** ready → absent. Locked keys answer KEY_IS_LOCKED. */
  delete(keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    const st = this.#st;
    const start = st.begin('delete', OP_DELETE, keys);
    const now = st.now();
    const n = keys.length;
    const results = new Array<L1KeyResult<void>>(n);
    for (let i = 0; i < n; i++) results[i] = this.#deleteStep(st.find(keys[i]!, now) as SlotId);
    st.end(OP_DELETE, start, W_DELETED, 'onL1KeysDeleted', keys, results);
    return results;
  }

  /** delete of one key. */
  deleteOne(key: ObjectKey): L1KeyResult<void> {
    const st = this.#st;
    st.assertOpen('deleteOne');
    checkKey(key);
    const start = st.metrics.startBatch(OP_DELETE);
    const result = this.#deleteStep(st.find(key, st.now()) as SlotId);
    st.endOne(OP_DELETE, start, W_DELETED, 'onL1KeysDeleted', key, result);
    return result;
  }

  /** The lock generation of one key's object now (0 when absent); see generations(). */
  generationOf(key: ObjectKey): number {
    const st = this.#st;
    st.assertOpen('generationOf');
    checkKey(key);
    const s = st.find(key, st.now());
    st.dispatch.flushEvicted();
    return s < 0 ? 0 : st.locks.generation(s as SlotId);
  }

  /**
   * The lock generation of each key's object now (0 when absent): read it right after taking a
   * lock (L1 calls are synchronous, so nothing runs in between) and hand it back to the finishing
   * call, which then refuses with LOCK_NOT_HELD a lock that expired or was reissued meanwhile.
   */
  generations(keys: readonly ObjectKey[]): number[] {
    this.#st.assertOpen('generations');
    checkKeys(keys);
    const now = this.#st.now();
    const out = new Array<number>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.#st.find(keys[i]!, now);
      out[i] = s < 0 ? 0 : this.#st.locks.generation(s as SlotId);
    }
    this.#st.dispatch.flushEvicted();
    return out;
  }

  /** Whether each key is ready or read-locked (readable), without taking a lock. */
  contains(keys: readonly ObjectKey[]): boolean[] {
    this.#st.assertOpen('contains');
    checkKeys(keys);
    const now = this.#st.now();
    const out = new Array<boolean>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.#st.find(keys[i]!, now);
      out[i] = s >= 0 && this.#st.slots.stateOf(s) === STATE_READY;
    }
    this.#st.dispatch.flushEvicted();
    return out;
  }

  /**
   * A snapshot of the keys L1 holds readable (ready or read-locked), in no particular order; not
   * write-locked or temporary objects, which were never reported as written. O(objects): for
   * seeding and reconciling a key set (the controller's worker client), not for the hot path.
   */
  keys(): ObjectKey[] {
    this.#st.assertOpen('keys');
    const slots = this.#st.slots;
    const out: ObjectKey[] = [];
    for (let i = 0; i < slots.high; i++) {
      if (slots.stateOf(i) === STATE_READY && slots.temporaryOf(i) === 0) out.push(slots.keys[i]!);
    }
    return out;
  }

  /** Marks ready, unlocked objects as used just now (for the eviction policy); no lock is taken. */
  touch(keys: readonly ObjectKey[]): void {
    this.#st.assertOpen('touch');
    checkKeys(keys);
    const now = this.#st.now();
    for (const key of keys) {
      const s = this.#st.slots.find(key);
      if (s >= 0 && this.#st.evictable(s as SlotId)) {
        this.#st.policy.onAccess(s as SlotId);
        this.#st.slots.markUsed(s, now);
      }
    }
  }

  /** Deletes every unlocked object; returns how many were removed. */
  clear(): number {
    this.#st.assertOpen('clear');
    const now = this.#st.now();
    const slots = this.#st.slots;
    const removed: ObjectKey[] = [];
    for (let i = 0; i < slots.high; i++) {
      const s = i as SlotId;
      if (slots.stateOf(s) === STATE_FREE || !this.#st.reclaimIfExpired(s, now)) continue;
      if (slots.stateOf(s) === STATE_READY && !this.#st.locks.readLocked(s)) {
        removed.push(slots.keys[s]!);
        this.#st.removeObject(s);
      }
    }
    this.#st.stats.deleted += removed.length;
    if (removed.length > 0) this.#st.dispatch.emit('onL1KeysDeleted', removed);
    this.#st.dispatch.flushEvicted();
    return removed.length;
  }

  /**
   * Reclaims every expired lock now (the background sweep calls this; tests call it after moving
   * their clock). Returns how many locks expired.
   */
  sweepExpiredLocks(): number {
    if (this.#st.closed || this.#st.writeLocked + this.#st.readLocked === 0) return 0;
    const before = this.#st.stats.writeLocksExpired + this.#st.stats.readLocksExpired;
    const now = this.#st.now();
    const slots = this.#st.slots;
    for (let i = 0; i < slots.high; i++) {
      if (slots.stateOf(i) !== STATE_FREE) this.#st.reclaimIfExpired(i as SlotId, now);
    }
    this.#st.dispatch.flushEvicted();
    return this.#st.stats.writeLocksExpired + this.#st.stats.readLocksExpired - before;
  }

  usage(): L1Usage {
    return this.#st.usage();
  }

  /** The state of one object, or undefined when absent (debugging and tests; reclaims an expired lock first). */
  inspect(key: ObjectKey): L1ObjectState | undefined {
    this.#st.assertOpen('inspect');
    const s = this.#st.find(key, this.#st.now()) as SlotId;
    this.#st.dispatch.flushEvicted();
    if (s < 0) return undefined;
    const readLocks = this.#st.locks.readCount(s);
    return {
      state: this.#st.slots.stateOf(s) === STATE_WRITE_LOCKED ? 'write_locked' : readLocks > 0 ? 'read_locked' : 'ready',
      readLocks,
      temporary: this.#st.slots.temporaryOf(s) === 1,
      byteSize: this.#st.slots.bytesOf(s),
      layout: this.#st.slots.objs[s]!.layout,
    };
  }

  /**
   * Checks that the allocator's accounting (free + used = arena, no overlap, free lists sound), the
   * index (keys ↔ slots ↔ blocks) and the lock and eviction bookkeeping agree.
   */
  memcheck(): MemcheckReport {
    return checkL1({
      allocator: this.#st.allocator,
      slots: this.#st.slots,
      locks: this.#st.locks,
      policy: this.#st.policy,
      recorded: { writeLocked: this.#st.writeLocked, readLocked: this.#st.readLocked, evictableBytes: this.#st.evictableBytes },
    });
  }

  /** Adds a listener (its methods are looked up now); returns the function that removes it. */
  addListener(listener: L1Listener): () => void {
    if (listener === null || typeof listener !== 'object') throw new InvalidArgumentError('listener', 'expected an object with optional onL1* methods');
    return this.#st.dispatch.add(listener);
  }

  /** Frees the arena and stops timers; later calls throw ClosedError. */
  close(): void {
    if (this.#st.closed) return;
    this.#st.closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#st.clock.close();
    this.#sweepTimer = undefined;
    this.#st.metrics.close();
    this.#st.dispatch.clear();
    this.#st.policy.reset();
    this.#st.slots.clearAll();
    this.#st.views.length = 0;
    this.#st.arena.release();
  }

  #deleteStep(s: SlotId): L1KeyResult<void> {
    const st = this.#st;
    if (s < 0) return KEY_NOT_EXIST;
    if (st.slots.stateOf(s) !== STATE_READY || st.locks.readLocked(s)) return KEY_IS_LOCKED;
    st.removeObject(s);
    st.stats.deleted++;
    return SUCCESS;
  }
}
