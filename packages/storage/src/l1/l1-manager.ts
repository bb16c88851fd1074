import { ClosedError, InvalidArgumentError, MemoryLayout, debugLogger, encodeKey } from '@tierkv/core';
import type { ObjectKey, TelemetryOptions } from '@tierkv/core';
import type { EvictionPolicy, SlotId } from '../eviction/eviction-policy.js';
import { keyChargeBytes } from './key-charge.js';
import { LruPolicy } from '../eviction/lru-policy.js';
import { WatermarkEvictor } from '../eviction/watermark-evictor.js';
import { NO_BLOCK, TlsfAllocator, type BlockId } from './allocator.js';
import { Arena } from './arena.js';
import type { EvictionReason, L1Listener } from './l1-listener.js';
import {
  L1Metrics,
  L1Stats,
  OP_ABORT_WRITE,
  OP_DELETE,
  OP_FINISH_READ,
  OP_FINISH_WRITE,
  OP_FINISH_WRITE_AND_RESERVE_READ,
  OP_RESERVE_READ,
  OP_RESERVE_WRITE,
} from './l1-metrics.js';
import { resolveL1Options, type L1Options, type ResolvedL1Options } from './l1-options.js';
import type { L1KeyResult, L1ResultCode } from './l1-result.js';
import type { L1Usage, MemcheckReport } from './l1-usage.js';
import { LockTable } from './lock-table.js';
import type { MemoryObj } from './memory-obj.js';
import { CoarseClock } from './coarse-clock.js';
import { ListenerDispatch, type KeysMethod, W_DELETED, W_READ_FINISHED, W_RESERVED_READ, W_RESERVED_WRITE, W_WRITE_ABORTED, W_WRITE_FINISHED } from './listener-dispatch.js';
import { checkGenerations, checkKeys, oldBlockOf } from './batch-checks.js';
import { checkL1 } from './l1-memcheck.js';
import { checkReadLocks } from './read-lock-limit.js';
import { STATE_FREE, STATE_READY, STATE_WRITE_LOCKED, SlotTable } from './slot-table.js';

export type { L1Options } from './l1-options.js';
export type { L1Usage, MemcheckReport } from './l1-usage.js';

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

/** What `inspect(key)` reports about one object (debugging and tests). */
export interface L1ObjectState {
  readonly state: 'write_locked' | 'ready' | 'read_locked';
  readonly readLocks: number;
  readonly temporary: boolean;
  readonly byteSize: number;
  /** The layout it was written with (a prefetch of another layout does not take it as a hit). */
  readonly layout: MemoryLayout;
}

export { MAX_READ_LOCKS } from './read-lock-limit.js';

const log = debugLogger('tierkv:l1');

// Results without an object are shared, frozen constants: a call allocates only its result array.
const R = (code: L1ResultCode): L1KeyResult<never> => Object.freeze({ code });
const SUCCESS = R('SUCCESS');
const KEY_NOT_EXIST = R('KEY_NOT_EXIST');
const KEY_NOT_READABLE = R('KEY_NOT_READABLE');
const KEY_NOT_WRITABLE = R('KEY_NOT_WRITABLE');
const KEY_IN_WRONG_STATE = R('KEY_IN_WRONG_STATE');
const KEY_IS_LOCKED = R('KEY_IS_LOCKED');
const OUT_OF_MEMORY = R('OUT_OF_MEMORY');
const LOCK_NOT_HELD = R('LOCK_NOT_HELD');

const WRITE_MODES: ReadonlySet<string> = new Set(['new', 'update', 'all']);

/**
 * Byte-bounded in-memory tier: arena + allocator + object state machine + eviction. Synchronous.
 *
 * absent → write-locked (reserveWrite) → ready (finishWrite) → read-locked ×n (reserveRead) →
 * ready (finishRead) → absent (delete, eviction; a temporary object when its last reader finishes).
 * Every call takes a batch and is atomic (nothing else runs between its keys); each key gets its
 * own result code, as in LMCache's L1Manager. Locks carry TTLs; an expired write reservation makes
 * the key absent again, an expired read lock drops the read count.
 */
export class L1Manager {
  readonly #options: ResolvedL1Options;
  readonly #arena: Arena;
  readonly #allocator: TlsfAllocator;
  readonly #locks: LockTable;
  readonly #policy: EvictionPolicy;
  readonly #slots: SlotTable;
  readonly #watermark: WatermarkEvictor;
  readonly #stats = new L1Stats();
  readonly #metrics: L1Metrics;
  readonly #now: () => number;
  readonly #clock = new CoarseClock();
  readonly #dispatch = new ListenerDispatch((method, err) => this.#listenerFailed(method, err));
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  // Objects by state (read-locked objects are STATE_READY with a read count).
  #writeLocked = 0;
  #readLocked = 0;
  // Bytes (block sizes) of the objects the policy holds, so on-demand eviction knows up front
  // whether evicting can make room at all.
  #evictableBytes = 0;

  constructor(options: L1Options, telemetry: TelemetryOptions = {}) {
    this.#options = resolveL1Options(options);
    const o = this.#options;
    this.#now = options.now === undefined ? this.#clock.now : o.now;
    this.#arena = new Arena(Math.floor(o.capacityBytes / o.alignBytes) * o.alignBytes, o.segmentBytes);
    this.#allocator = new TlsfAllocator(o.capacityBytes, o.alignBytes, o.segmentBytes);
    this.#locks = new LockTable(o.writeLockTtlMs, o.readLockTtlMs);
    this.#policy = o.eviction === 'lru' ? new LruPolicy(0) : o.eviction;
    this.#slots = new SlotTable((capacity) => {
      this.#locks.resize(capacity);
      this.#policy.resize(capacity);
    });
    this.#watermark = new WatermarkEvictor(this.#allocator.totalBytes, o.triggerWatermark, o.evictionRatio);
    this.#metrics = new L1Metrics(this.#stats, () => this.usage(), telemetry);
    if (o.lockSweepIntervalMs > 0) {
      this.#sweepTimer = setInterval(() => this.sweepExpiredLocks(), o.lockSweepIntervalMs);
      this.#sweepTimer.unref();
    }
  }

  /** The resolved options (defaults applied). */
  get options(): ResolvedL1Options {
    return this.#options;
  }

  /**
   * Reserves memory for each key (write-locked). `temporary` objects are freed after their last
   * read. Allocations of one call succeed or fail together: when the new keys do not fit even after
   * evicting unlocked objects, every one of them answers OUT_OF_MEMORY (LMCache's contract), unless
   * `partial` asks for the leading keys that fit.
   */
  reserveWrite(keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode = 'new', options: ReserveWriteOptions = {}): L1KeyResult<MemoryObj>[] {
    this.#assertOpen('reserveWrite');
    checkKeys(keys);
    // New keys enter the index, so they must be well formed; checked before anything changes.
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k === null || typeof k !== 'object' || typeof k.chunkHash !== 'string' || typeof k.modelName !== 'string' || typeof k.kvRank !== 'number' || typeof k.cacheSalt !== 'string') {
        throw new InvalidArgumentError(`keys[${i}]`, 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey()');
      }
    }
    if (!(layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance');
    if (!WRITE_MODES.has(mode)) throw new InvalidArgumentError('mode', `expected 'new', 'update' or 'all', got ${JSON.stringify(mode)}`);
    const start = this.#metrics.startBatch(OP_RESERVE_WRITE);
    const now = this.#now();
    const temporary = options.temporary === true ? 1 : 0;
    const byteSize = layout.byteSize;
    const n = keys.length;
    const results = new Array<L1KeyResult<MemoryObj>>(n);
    const slots = this.#slots;
    // Keys that need a block: new keys, and updates whose layout changed size.
    let pending: number[] | undefined;
    let replaced: number[] | undefined; // pairs: slot, old block
    let needBytes = 0;

    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      let slot = slots.find(key);
      if (slot >= 0 && !this.#reclaimIfExpired(slot as SlotId, now)) slot = -1;
      if (slot < 0) {
        if (mode === 'update') {
          results[i] = KEY_NOT_WRITABLE;
          continue;
        }
        if (!this.#roomForKey(key)) {
          results[i] = OUT_OF_MEMORY;
          this.#stats.allocationFailures++;
          continue;
        }
        // Take the slot now so a duplicate key later in the batch sees it write-locked.
        const s = slots.insert(key);
        slots.setState(s, STATE_WRITE_LOCKED);
        slots.setBytes(s, byteSize);
        slots.setTemporary(s, temporary);
        this.#locks.lockWrite(s, now);
        this.#writeLocked++;
        (pending ??= []).push(i, s);
        needBytes += this.#allocator.roundUp(byteSize);
        continue;
      }
      const s = slot as SlotId;
      if (mode === 'new' || slots.stateOf(s) !== STATE_READY || this.#locks.readLocked(s) || slots.temporaryOf(s) === 1) {
        results[i] = KEY_NOT_WRITABLE;
        continue;
      }
      // Update in place: ready and unlocked → write-locked again.
      this.#unpolicy(s);
      slots.setState(s, STATE_WRITE_LOCKED);
      slots.setTemporary(s, temporary);
      this.#locks.lockWrite(s, now);
      this.#writeLocked++;
      const obj = slots.objs[s]!;
      if (obj.layout.byteSize === byteSize && slots.blockBytesOf(s) >= byteSize) {
        if (obj.layout !== layout && !obj.layout.equals(layout)) this.#setObj(s, key, layout, slots.blockOf(s));
        results[i] = slots.success[s]!;
      } else {
        (replaced ??= []).push(s, slots.blockOf(s));
        slots.setBlock(s, -1, 0);
        slots.setBytes(s, byteSize);
        (pending ??= []).push(i, s);
        needBytes += this.#allocator.roundUp(byteSize);
      }
    }

    if (pending !== undefined) {
      const partial = options.partial === true;
      const allocated = this.#allocateAll(pending, needBytes, byteSize, partial);
      for (let p = 0; p < pending.length; p += 2) {
        const i = pending[p]!;
        const s = pending[p + 1]! as SlotId;
        const oldBlock = replaced === undefined ? -1 : oldBlockOf(replaced, s);
        if (p / 2 < allocated) {
          this.#setObj(s, keys[i]!, layout, slots.blockOf(s));
          results[i] = slots.success[s]!;
          if (oldBlock >= 0) this.#allocator.free(oldBlock as BlockId);
        } else {
          results[i] = OUT_OF_MEMORY;
          this.#stats.allocationFailures++;
          this.#rollback(s, oldBlock);
        }
      }
    }

    const toFree = this.#watermark.bytesToFree(this.#allocator.usedBytes, this.#evictableBytes);
    if (toFree > 0) {
      this.#stats.evictionRunsWatermark++;
      this.#evictBytes(toFree, 'watermark');
    }
    this.#end(OP_RESERVE_WRITE, start, W_RESERVED_WRITE, 'onL1KeysReservedWrite', keys, results);
    return results;
  }

  /**
   * write-locked → ready. With `generations` (from `generations()` right after reserveWrite), a
   * key whose reservation is no longer that one answers LOCK_NOT_HELD and is left alone.
   */
  finishWrite(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<void>[] {
    return this.#finishWrite(keys, 0, 'finishWrite', OP_FINISH_WRITE, generations) as L1KeyResult<void>[];
  }

  /** write-locked → read-locked (count `readLocks`, default 1) in one step; `generations` as finishWrite. */
  finishWriteAndReserveRead(keys: readonly ObjectKey[], readLocks = 1, generations?: ArrayLike<number>): L1KeyResult<MemoryObj>[] {
    return this.#finishWrite(keys, checkReadLocks(readLocks), 'finishWriteAndReserveRead', OP_FINISH_WRITE_AND_RESERVE_READ, generations) as L1KeyResult<MemoryObj>[];
  }

  /** write-locked → absent, memory freed (a writer gives up); `generations` as finishWrite. */
  abortWrite(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<void>[] {
    const start = this.#begin('abortWrite', OP_ABORT_WRITE, keys, generations);
    const now = this.#now();
    const n = keys.length;
    const results = new Array<L1KeyResult<void>>(n);
    for (let i = 0; i < n; i++) {
      const s = this.#find(keys[i]!, now);
      if (s < 0) results[i] = KEY_NOT_EXIST;
      else if (generations !== undefined && generations[i] !== this.#locks.generation(s as SlotId)) results[i] = LOCK_NOT_HELD;
      else if (this.#slots.stateOf(s) !== STATE_WRITE_LOCKED) results[i] = KEY_IN_WRONG_STATE;
      else {
        this.#removeObject(s as SlotId);
        results[i] = SUCCESS;
      }
    }
    this.#end(OP_ABORT_WRITE, start, W_WRITE_ABORTED, 'onL1KeysWriteAborted', keys, results);
    return results;
  }

  /** ready / read-locked → read-locked (count + `readLocks`, default 1). */
  reserveRead(keys: readonly ObjectKey[], readLocks = 1): L1KeyResult<MemoryObj>[] {
    const count = checkReadLocks(readLocks);
    const start = this.#begin('reserveRead', OP_RESERVE_READ, keys);
    const now = this.#now();
    const n = keys.length;
    const results = new Array<L1KeyResult<MemoryObj>>(n);
    const slots = this.#slots;
    const locks = this.#locks;
    for (let i = 0; i < n; i++) {
      const s = this.#find(keys[i]!, now) as SlotId;
      if (s < 0) {
        results[i] = KEY_NOT_EXIST;
        this.#stats.missesNotFound++;
      } else if (slots.stateOf(s) !== STATE_READY) {
        results[i] = KEY_NOT_READABLE;
        this.#stats.missesWriteLocked++;
      } else {
        if (locks.readCount(s) === 0) {
          this.#unpolicy(s);
          this.#readLocked++;
        }
        locks.lockRead(s, count, now);
        results[i] = slots.success[s]!;
      }
    }
    this.#end(OP_RESERVE_READ, start, W_RESERVED_READ, 'onL1KeysReservedRead', keys, results);
    return results;
  }

  /**
   * The objects of keys the caller already holds read locks on, without taking more (LMCache's
   * unsafe_read): KEY_NOT_READABLE when the key is not read-locked. With `generations`, a key whose
   * read locks are no longer those of that generation (they expired) answers LOCK_NOT_HELD.
   */
  unsafeRead(keys: readonly ObjectKey[], generations?: ArrayLike<number>): L1KeyResult<MemoryObj>[] {
    this.#assertOpen('unsafeRead');
    checkKeys(keys);
    checkGenerations(keys, generations);
    const now = this.#now();
    const results = new Array<L1KeyResult<MemoryObj>>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.#find(keys[i]!, now) as SlotId;
      if (s < 0) results[i] = KEY_NOT_EXIST;
      else if (generations !== undefined && generations[i] !== this.#locks.generation(s)) results[i] = LOCK_NOT_HELD;
      else if (this.#slots.stateOf(s) !== STATE_READY || !this.#locks.readLocked(s)) results[i] = KEY_NOT_READABLE;
      else results[i] = this.#slots.success[s]!;
    }
    this.#dispatch.flushEvicted();
    return results;
  }

  /**
   * read-locked (count - `readLocks`, default 1); a temporary object is freed when its count
   * reaches 0. With `generations` (read right after the lock was taken), a key whose read locks
   * expired since answers LOCK_NOT_HELD and keeps the locks other readers took since.
   */
  finishRead(keys: readonly ObjectKey[], readLocks = 1, generations?: ArrayLike<number>): L1KeyResult<void>[] {
    const count = checkReadLocks(readLocks);
    const start = this.#begin('finishRead', OP_FINISH_READ, keys, generations);
    const now = this.#now();
    const n = keys.length;
    const results = new Array<L1KeyResult<void>>(n);
    const slots = this.#slots;
    const locks = this.#locks;
    for (let i = 0; i < n; i++) {
      const s = this.#find(keys[i]!, now) as SlotId;
      if (s < 0) {
        results[i] = KEY_NOT_EXIST;
        continue;
      }
      if (generations !== undefined && generations[i] !== locks.generation(s)) {
        results[i] = LOCK_NOT_HELD;
        continue;
      }
      if (slots.stateOf(s) !== STATE_READY || locks.readCount(s) === 0) {
        results[i] = KEY_IN_WRONG_STATE;
        continue;
      }
      results[i] = SUCCESS;
      this.#stats.reads++;
      if (locks.unlockRead(s, count) > 0) continue;
      this.#readLocked--;
      if (slots.temporaryOf(s) === 1) {
        this.#stats.evictedTemporary++;
        this.#dispatch.queueEvicted(slots.keys[s]!, 'temporary_released');
        this.#removeObject(s);
      } else {
        if (this.#metrics.sampleReuse()) this.#metrics.recordReuse(now - slots.usedAt(s));
        slots.markUsed(s, now);
        this.#enpolicy(s);
      }
    }
    this.#end(OP_FINISH_READ, start, W_READ_FINISHED, 'onL1KeysReadFinished', keys, results);
    return results;
  }

  /** ready → absent. Locked keys answer KEY_IS_LOCKED. */
  delete(keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    const start = this.#begin('delete', OP_DELETE, keys);
    const now = this.#now();
    const n = keys.length;
    const results = new Array<L1KeyResult<void>>(n);
    for (let i = 0; i < n; i++) {
      const s = this.#find(keys[i]!, now) as SlotId;
      if (s < 0) results[i] = KEY_NOT_EXIST;
      else if (this.#slots.stateOf(s) !== STATE_READY || this.#locks.readLocked(s)) results[i] = KEY_IS_LOCKED;
      else {
        this.#removeObject(s);
        this.#stats.deleted++;
        results[i] = SUCCESS;
      }
    }
    this.#end(OP_DELETE, start, W_DELETED, 'onL1KeysDeleted', keys, results);
    return results;
  }

  /**
   * The lock generation of each key's object now (0 when absent): read it right after taking a
   * lock (L1 calls are synchronous, so nothing runs in between) and hand it back to the finishing
   * call, which then refuses with LOCK_NOT_HELD a lock that expired or was reissued meanwhile.
   */
  generations(keys: readonly ObjectKey[]): number[] {
    this.#assertOpen('generations');
    checkKeys(keys);
    const now = this.#now();
    const out = new Array<number>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.#find(keys[i]!, now);
      out[i] = s < 0 ? 0 : this.#locks.generation(s as SlotId);
    }
    this.#dispatch.flushEvicted();
    return out;
  }

  /** Whether each key is ready or read-locked (readable), without taking a lock. */
  contains(keys: readonly ObjectKey[]): boolean[] {
    this.#assertOpen('contains');
    checkKeys(keys);
    const now = this.#now();
    const out = new Array<boolean>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const s = this.#find(keys[i]!, now);
      out[i] = s >= 0 && this.#slots.stateOf(s) === STATE_READY;
    }
    this.#dispatch.flushEvicted();
    return out;
  }

  /**
   * A snapshot of the keys L1 holds readable (ready or read-locked), in no particular order; not
   * write-locked or temporary objects, which were never reported as written. O(objects): for
   * seeding and reconciling a key set (the controller's worker client), not for the hot path.
   */
  keys(): ObjectKey[] {
    this.#assertOpen('keys');
    const slots = this.#slots;
    const out: ObjectKey[] = [];
    for (let i = 0; i < slots.high; i++) {
      if (slots.stateOf(i) === STATE_READY && slots.temporaryOf(i) === 0) out.push(slots.keys[i]!);
    }
    return out;
  }

  /** Marks ready, unlocked objects as used just now (for the eviction policy); no lock is taken. */
  touch(keys: readonly ObjectKey[]): void {
    this.#assertOpen('touch');
    checkKeys(keys);
    const now = this.#now();
    for (const key of keys) {
      const s = this.#slots.find(key);
      if (s >= 0 && this.#policy.has(s as SlotId)) {
        this.#policy.onAccess(s as SlotId);
        this.#slots.markUsed(s, now);
      }
    }
  }

  /** Deletes every unlocked object; returns how many were removed. */
  clear(): number {
    this.#assertOpen('clear');
    const now = this.#now();
    const slots = this.#slots;
    const removed: ObjectKey[] = [];
    for (let i = 0; i < slots.high; i++) {
      const s = i as SlotId;
      if (slots.stateOf(s) === STATE_FREE || !this.#reclaimIfExpired(s, now)) continue;
      if (slots.stateOf(s) === STATE_READY && !this.#locks.readLocked(s)) {
        removed.push(slots.keys[s]!);
        this.#removeObject(s);
      }
    }
    this.#stats.deleted += removed.length;
    if (removed.length > 0) this.#dispatch.emit('onL1KeysDeleted', removed);
    this.#dispatch.flushEvicted();
    return removed.length;
  }

  /**
   * Reclaims every expired lock now (the background sweep calls this; tests call it after moving
   * their clock). Returns how many locks expired.
   */
  sweepExpiredLocks(): number {
    if (this.#closed || this.#writeLocked + this.#readLocked === 0) return 0;
    const before = this.#stats.writeLocksExpired + this.#stats.readLocksExpired;
    const now = this.#now();
    const slots = this.#slots;
    for (let i = 0; i < slots.high; i++) {
      if (slots.stateOf(i) !== STATE_FREE) this.#reclaimIfExpired(i as SlotId, now);
    }
    this.#dispatch.flushEvicted();
    return this.#stats.writeLocksExpired + this.#stats.readLocksExpired - before;
  }

  usage(): L1Usage {
    if (this.#closed) return { usedBytes: 0, capacityBytes: this.#allocator.totalBytes, objects: 0, byState: { writeLocked: 0, ready: 0, readLocked: 0 }, writeLockedBytes: 0, keyBytes: 0, keyBytesLimit: this.#options.maxKeyBytes };
    const objects = this.#slots.size;
    return {
      usedBytes: this.#allocator.usedBytes,
      capacityBytes: this.#allocator.totalBytes,
      objects,
      byState: { writeLocked: this.#writeLocked, ready: objects - this.#writeLocked - this.#readLocked, readLocked: this.#readLocked },
      writeLockedBytes: this.#slots.writeLockedBytes,
      keyBytes: this.#slots.keyBytes,
      keyBytesLimit: this.#options.maxKeyBytes,
    };
  }

  /** The state of one object, or undefined when absent (debugging and tests; reclaims an expired lock first). */
  inspect(key: ObjectKey): L1ObjectState | undefined {
    this.#assertOpen('inspect');
    const s = this.#find(key, this.#now()) as SlotId;
    this.#dispatch.flushEvicted();
    if (s < 0) return undefined;
    const readLocks = this.#locks.readCount(s);
    return {
      state: this.#slots.stateOf(s) === STATE_WRITE_LOCKED ? 'write_locked' : readLocks > 0 ? 'read_locked' : 'ready',
      readLocks,
      temporary: this.#slots.temporaryOf(s) === 1,
      byteSize: this.#slots.bytesOf(s),
      layout: this.#slots.objs[s]!.layout,
    };
  }

  /**
   * Checks that the allocator's accounting (free + used = arena, no overlap, free lists sound), the
   * index (keys ↔ slots ↔ blocks) and the lock and eviction bookkeeping agree.
   */
  memcheck(): MemcheckReport {
    return checkL1({
      allocator: this.#allocator,
      slots: this.#slots,
      locks: this.#locks,
      policy: this.#policy,
      recorded: { writeLocked: this.#writeLocked, readLocked: this.#readLocked, evictableBytes: this.#evictableBytes },
    });
  }

  /** Adds a listener (its methods are looked up now); returns the function that removes it. */
  addListener(listener: L1Listener): () => void {
    if (listener === null || typeof listener !== 'object') throw new InvalidArgumentError('listener', 'expected an object with optional onL1* methods');
    return this.#dispatch.add(listener);
  }

  /** Frees the arena and stops timers; later calls throw ClosedError. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#clock.close();
    this.#sweepTimer = undefined;
    this.#metrics.close();
    this.#dispatch.clear();
    this.#policy.reset();
    this.#slots.clearAll();
    this.#arena.release();
  }

  // ---------------------------------------------------------------------------------------------

  #finishWrite(keys: readonly ObjectKey[], readLocks: number, method: string, operation: number, generations: ArrayLike<number> | undefined): L1KeyResult<unknown>[] {
    const start = this.#begin(method, operation, keys, generations);
    const now = this.#now();
    const n = keys.length;
    const results = new Array<L1KeyResult<unknown>>(n);
    const slots = this.#slots;
    let written: ObjectKey[] | undefined;
    const wantKeys = this.#dispatch.wants(W_WRITE_FINISHED);
    for (let i = 0; i < n; i++) {
      const s = this.#find(keys[i]!, now) as SlotId;
      if (s < 0) {
        results[i] = KEY_NOT_EXIST;
        continue;
      }
      if (generations !== undefined && generations[i] !== this.#locks.generation(s)) {
        results[i] = LOCK_NOT_HELD;
        continue;
      }
      if (slots.stateOf(s) !== STATE_WRITE_LOCKED) {
        results[i] = KEY_IN_WRONG_STATE;
        continue;
      }
      slots.setState(s, STATE_READY);
      this.#writeLocked--;
      this.#locks.unlockWrite(s);
      this.#stats.writes++;
      slots.markWritten(s, now);
      if (this.#metrics.awaitingReuse) this.#metrics.noteRewritten(slots.keys[s]!.chunkHash, now);
      if (wantKeys && slots.temporaryOf(s) === 0) (written ??= []).push(slots.keys[s]!);
      if (readLocks > 0) {
        this.#locks.lockRead(s, readLocks, now);
        this.#readLocked++;
        results[i] = slots.success[s]!;
      } else {
        this.#enpolicy(s);
        results[i] = SUCCESS;
      }
    }
    if (written !== undefined) this.#dispatch.emit('onL1KeysWriteFinished', written);
    this.#end(operation, start, readLocks > 0 ? W_RESERVED_READ : 0, 'onL1KeysReservedRead', keys, results);
    return results;
  }

  /**
   * Allocates blocks for the pending slots in key order, evicting on demand; returns how many got
   * one. All-or-nothing unless `partial`: then it stops at the first key that cannot fit.
   */
  #allocateAll(pending: number[], needBytes: number, byteSize: number, partial: boolean): number {
    const allocator = this.#allocator;
    const slots = this.#slots;
    const blockBytes = allocator.roundUp(byteSize);
    // Blocks of replaced objects are freed only once the call succeeds, so they do not count here.
    // When even evicting everything evictable could not cover the batch, evict nothing.
    if (blockBytes > allocator.segmentBytes) return 0;
    if (!partial && needBytes > allocator.freeBytes + this.#evictableBytes) return 0;
    let ranOnDemand = false;
    let done = 0;
    for (let p = 1; p < pending.length; p += 2) {
      if (partial && blockBytes > allocator.freeBytes + this.#evictableBytes) break;
      let block = allocator.allocate(byteSize);
      while (block === NO_BLOCK) {
        const victim = this.#policy.coldest();
        if (victim < 0) break;
        if (!ranOnDemand) {
          ranOnDemand = true;
          this.#stats.evictionRunsOnDemand++;
        }
        this.#evictOne(victim as SlotId, 'on_demand');
        block = allocator.allocate(byteSize);
      }
      if (block === NO_BLOCK) break;
      slots.setBlock(pending[p]!, block, allocator.sizeOf(block));
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
  #rollback(s: SlotId, oldBlock: number): void {
    const slots = this.#slots;
    if (slots.blockOf(s) >= 0) this.#allocator.free(slots.blockOf(s));
    this.#writeLocked--;
    if (oldBlock >= 0) {
      slots.setBlock(s, oldBlock, this.#allocator.sizeOf(oldBlock as BlockId));
      slots.setBytes(s, slots.objs[s]!.layout.byteSize);
      slots.setState(s, STATE_READY);
      slots.setTemporary(s, 0);
      this.#locks.unlockWrite(s);
      this.#enpolicy(s);
      return;
    }
    slots.setBlock(s, -1, 0);
    this.#locks.clear(s);
    slots.remove(s);
  }

  #setObj(s: SlotId, key: ObjectKey, layout: MemoryLayout, block: BlockId): void {
    const obj: MemoryObj = { key, layout, data: this.#arena.view(this.#allocator.offsetOf(block), layout.byteSize) };
    this.#slots.objs[s] = obj;
    this.#slots.success[s] = Object.freeze({ code: 'SUCCESS', obj });
  }

  /** Slot of a live key after lazily reclaiming an expired lock, or -1. */
  #find(key: ObjectKey, now: number): number {
    const s = this.#slots.find(key);
    if (s < 0) return -1;
    return this.#reclaimIfExpired(s as SlotId, now) ? s : -1;
  }

  /** Applies lock expiry to one object; returns whether the object still exists. */
  #reclaimIfExpired(s: SlotId, now: number): boolean {
    const slots = this.#slots;
    const locks = this.#locks;
    if (slots.stateOf(s) === STATE_WRITE_LOCKED) {
      if (!locks.writeExpired(s, now)) return true;
      this.#stats.writeLocksExpired++;
      this.#stats.evictedLockExpired++;
      this.#dispatch.queueEvicted(slots.keys[s]!, 'lock_expired');
      if (log.enabled) log('write lock on %s expired; the reservation is dropped', encodeKey(slots.keys[s]!));
      this.#removeObject(s);
      return false;
    }
    if (!locks.readExpired(s, now)) return true;
    this.#stats.readLocksExpired++;
    locks.dropReads(s);
    this.#readLocked--;
    if (log.enabled) log('read locks on %s expired', encodeKey(slots.keys[s]!));
    if (slots.temporaryOf(s) === 1) {
      this.#stats.evictedTemporary++;
      this.#dispatch.queueEvicted(slots.keys[s]!, 'temporary_released');
      this.#removeObject(s);
      return false;
    }
    this.#enpolicy(s);
    return true;
  }

  /** Frees an object in any state, keeping every counter right. */
  #removeObject(s: SlotId): void {
    const slots = this.#slots;
    if (slots.stateOf(s) === STATE_WRITE_LOCKED) this.#writeLocked--;
    else if (this.#locks.readCount(s) > 0) this.#readLocked--;
    else this.#unpolicy(s);
    const block: number = slots.blockOf(s);
    if (block >= 0) this.#allocator.free(block as BlockId);
    this.#locks.clear(s);
    slots.remove(s);
  }

  #enpolicy(s: SlotId): void {
    this.#policy.onInsert(s);
    this.#evictableBytes += this.#slots.blockBytesOf(s);
  }

  #unpolicy(s: SlotId): void {
    if (!this.#policy.has(s)) return;
    this.#policy.onRemove(s);
    this.#evictableBytes -= this.#slots.blockBytesOf(s);
  }

  #evictOne(victim: SlotId, reason: EvictionReason): number {
    const size = this.#slots.blockBytesOf(victim);
    if (this.#metrics.sampleEviction()) {
      const now = this.#now();
      this.#metrics.recordEviction(now - this.#slots.writtenAt(victim), now - this.#slots.usedAt(victim));
      this.#metrics.noteEvicted(this.#slots.keys[victim]!.chunkHash, now);
    }
    this.#dispatch.queueEvicted(this.#slots.keys[victim]!, reason);
    this.#stats.countEvicted(reason, 1);
    this.#removeObject(victim);
    return size;
  }

  /** Whether a new key fits the key budget, after evicting cold objects if it must. */
  #roomForKey(key: ObjectKey): boolean {
    const limit = this.#options.maxKeyBytes - keyChargeBytes(key);
    while (this.#slots.keyBytes > limit) {
      const victim = this.#policy.coldest();
      if (victim < 0) return false;
      this.#evictOne(victim as SlotId, 'on_demand');
    }
    return true;
  }

  #evictBytes(bytes: number, reason: EvictionReason): void {
    let freed = 0;
    while (freed < bytes) {
      const victim = this.#policy.coldest();
      if (victim < 0) break;
      freed += this.#evictOne(victim as SlotId, reason);
    }
  }

  #listenerFailed(method: string, err: unknown): void {
    this.#stats.listenerErrors++;
    if (log.enabled) log('listener %s threw (isolated): %s', method, err instanceof Error ? err.stack : String(err));
  }

  /**
   * How every batch call begins: the manager is open and the keys (and generations) are well formed
   * before anything changes. Returns the call's metrics start time.
   */
  #begin(method: string, operation: number, keys: readonly ObjectKey[], generations?: ArrayLike<number>): number {
    this.#assertOpen(method);
    checkKeys(keys);
    checkGenerations(keys, generations);
    return this.#metrics.startBatch(operation);
  }

  /**
   * How every batch call ends: listeners of `event` told the per-key results (`wanted` is its
   * dispatch bit; 0 tells no one), evictions the call caused announced, the call recorded.
   */
  #end(operation: number, start: number, wanted: number, event: KeysMethod, keys: readonly ObjectKey[], results: readonly L1KeyResult<unknown>[]): void {
    if (wanted !== 0 && this.#dispatch.wants(wanted)) this.#dispatch.notify(event, keys, results);
    this.#dispatch.flushEvicted();
    this.#metrics.recordBatch(operation, start);
  }

  #assertOpen(operation: string): void {
    if (this.#closed) throw new ClosedError('L1Manager', operation);
  }
}
