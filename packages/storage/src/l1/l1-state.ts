import { ClosedError, debugLogger, encodeKey, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { EvictionPolicy, SlotId } from '../eviction/eviction-policy.js';
import { ClockPolicy } from '../eviction/clock-policy.js';
import { LruPolicy } from '../eviction/lru-policy.js';
import { WatermarkEvictor } from '../eviction/watermark-evictor.js';
import { TlsfAllocator, type BlockId } from './allocator.js';
import { Arena } from './arena.js';
import { checkGenerations, checkKeys } from './batch-checks.js';
import { CoarseClock } from './coarse-clock.js';
import { keyChargeBytes } from './key-charge.js';
import type { EvictionReason } from './l1-listener.js';
import { L1Metrics, L1Stats } from './l1-metrics.js';
import type { ResolvedL1Options } from './l1-options.js';
import type { L1KeyResult, L1ResultCode } from './l1-result.js';
import type { L1Usage } from './l1-usage.js';
import { ListenerDispatch, type KeysMethod } from './listener-dispatch.js';
import { LockTable } from './lock-table.js';
import type { MemoryObj } from './memory-obj.js';
import { I_READ_COUNT, I_STATE, I_STRIDE, STATE_READY, STATE_WRITE_LOCKED, SlotTable } from './slot-table.js';

const log = debugLogger('tierkv:l1');

// Results without an object are shared, frozen constants: a call allocates only its result array
// (a single-key call nothing at all: an object's SUCCESS result is made once per object).
const R = (code: L1ResultCode): L1KeyResult<never> => Object.freeze({ code });
export const SUCCESS = R('SUCCESS');
export const KEY_NOT_EXIST = R('KEY_NOT_EXIST');
export const KEY_NOT_READABLE = R('KEY_NOT_READABLE');
export const KEY_NOT_WRITABLE = R('KEY_NOT_WRITABLE');
export const KEY_IN_WRONG_STATE = R('KEY_IN_WRONG_STATE');
export const KEY_IS_LOCKED = R('KEY_IS_LOCKED');
export const OUT_OF_MEMORY = R('OUT_OF_MEMORY');
export const LOCK_NOT_HELD = R('LOCK_NOT_HELD');

/**
 * What every L1 path shares: the arena, allocator, object index, locks and eviction policy, the
 * counts kept beside them, and the slot transitions all paths use (lookup with lazy lock expiry,
 * removal, eviction). The read path (read-path.ts) and the write path (write-path.ts) operate on
 * it; L1Manager is the public surface over the three. Internal: fields are public for those files.
 */
export class L1State {
  readonly options: ResolvedL1Options;
  readonly arena: Arena;
  readonly allocator: TlsfAllocator;
  readonly locks: LockTable;
  readonly policy: EvictionPolicy;
  readonly slots: SlotTable;
  readonly watermark: WatermarkEvictor;
  readonly stats = new L1Stats();
  readonly metrics: L1Metrics;
  readonly now: () => number;
  readonly clock = new CoarseClock();
  readonly dispatch = new ListenerDispatch((method, err) => this.#listenerFailed(method, err));
  closed = false;

  // Objects by state (read-locked objects are STATE_READY with a read count).
  writeLocked = 0;
  readLocked = 0;
  // Bytes (block sizes) of the evictable objects (ready, not read-locked), so on-demand eviction
  // knows up front whether evicting can make room at all.
  evictableBytes = 0;
  /** The last arena view made for each slot, and its offset (see setObj). */
  readonly views: (Uint8Array | undefined)[] = [];
  readonly viewOffsets: number[] = [];
  /** Whether the current write call has already counted its on-demand eviction run. */
  onDemandRan = false;

  constructor(o: ResolvedL1Options, injectedNow: (() => number) | undefined, telemetry: TelemetryOptions) {
    this.options = o;
    this.now = injectedNow ?? this.clock.now;
    this.arena = new Arena(Math.floor(o.capacityBytes / o.alignBytes) * o.alignBytes, o.segmentBytes);
    this.allocator = new TlsfAllocator(o.capacityBytes, o.alignBytes, o.segmentBytes);
    this.policy = o.eviction === 'clock' ? new ClockPolicy(0) : o.eviction === 'lru' ? new LruPolicy(0) : o.eviction;
    this.slots = new SlotTable((capacity) => this.policy.resize(capacity));
    this.locks = new LockTable(this.slots, o.writeLockTtlMs, o.readLockTtlMs);
    this.watermark = new WatermarkEvictor(this.allocator.totalBytes, o.triggerWatermark, o.evictionRatio);
    this.metrics = new L1Metrics(this.stats, () => this.usage(), telemetry);
  }

  usage(): L1Usage {
    if (this.closed) return { usedBytes: 0, capacityBytes: this.allocator.totalBytes, objects: 0, byState: { writeLocked: 0, ready: 0, readLocked: 0 }, writeLockedBytes: 0, keyBytes: 0, keyBytesLimit: this.options.maxKeyBytes };
    const objects = this.slots.size;
    return {
      usedBytes: this.allocator.usedBytes,
      capacityBytes: this.allocator.totalBytes,
      objects,
      byState: { writeLocked: this.writeLocked, ready: objects - this.writeLocked - this.readLocked, readLocked: this.readLocked },
      writeLockedBytes: this.slots.writeLockedBytes,
      keyBytes: this.slots.keyBytes,
      keyBytesLimit: this.options.maxKeyBytes,
    };
  }

  /** The object's view and its SUCCESS result, made once per object (reservation) rather than per call. */
  setObj(s: SlotId, key: ObjectKey, layout: MemoryLayout, block: BlockId): void {
    const offset = this.allocator.offsetOf(block);
    const length = layout.byteSize;
    // A slot and a block are reused together when one object replaces another of its size (the
    // free slot and the freed block are the first handed out again): the arena view of the same
    // bytes is then reused too, as making one costs more than the rest of a small write. Whoever
    // kept the old object's view sees the same bytes through it either way.
    let data = this.views[s];
    if (data === undefined || this.viewOffsets[s] !== offset || data.length !== length) {
      data = this.arena.view(offset, length);
      this.views[s] = data;
      this.viewOffsets[s] = offset;
    }
    const obj: MemoryObj = { key, layout, data };
    this.slots.objs[s] = obj;
    this.slots.success[s] = Object.freeze({ code: 'SUCCESS', obj });
  }

  /** Slot of a live key after lazily reclaiming an expired lock, or -1. */
  find(key: ObjectKey, now: number): number {
    const s = this.slots.find(key);
    if (s < 0) return -1;
    return this.reclaimIfExpired(s as SlotId, now) ? s : -1;
  }

  /** Applies lock expiry to one object; returns whether the object still exists. */
  reclaimIfExpired(s: SlotId, now: number): boolean {
    const slots = this.slots;
    const locks = this.locks;
    if (slots.stateOf(s) === STATE_WRITE_LOCKED) {
      if (!locks.writeExpired(s, now)) return true;
      this.stats.writeLocksExpired++;
      this.stats.evictedLockExpired++;
      this.dispatch.queueEvicted(slots.keys[s]!, 'lock_expired');
      if (log.enabled) log('write lock on %s expired; the reservation is dropped', encodeKey(slots.keys[s]!));
      this.removeObject(s);
      return false;
    }
    if (!locks.readExpired(s, now)) return true;
    this.stats.readLocksExpired++;
    locks.dropReads(s);
    this.readUnlocked(s);
    if (log.enabled) log('read locks on %s expired', encodeKey(slots.keys[s]!));
    if (slots.temporaryOf(s) === 1) {
      this.stats.evictedTemporary++;
      this.dispatch.queueEvicted(slots.keys[s]!, 'temporary_released');
      this.removeObject(s);
      return false;
    }
    return true;
  }

  /** Frees an object in any state, keeping every counter right. */
  removeObject(s: SlotId): void {
    const slots = this.slots;
    if (slots.stateOf(s) === STATE_WRITE_LOCKED) this.writeLocked--;
    else {
      // A read-locked object's bytes were not evictable: unpolicy leaves evictableBytes alone.
      if (this.locks.readCount(s) > 0) this.readLocked--;
      this.unpolicy(s);
    }
    const block: number = slots.blockOf(s);
    if (block >= 0) this.allocator.free(block as BlockId);
    this.locks.clear(s);
    slots.remove(s);
  }

  // The policy holds every ready object, read-locked or not (a read lock costs no policy update);
  // evictableBytes and `evictable` tell the unlocked ones apart. The read-one fast paths write
  // readLocked and evictableBytes out as these two do.

  /** The object's first read lock was taken (it was ready and unlocked). */
  readLockedFirst(s: SlotId): void {
    this.readLocked++;
    this.evictableBytes -= this.slots.blockBytesOf(s);
  }

  /** The object's last read lock is gone (released or expired); its count is already 0. */
  readUnlocked(s: SlotId): void {
    this.readLocked--;
    this.evictableBytes += this.slots.blockBytesOf(s);
  }

  /** The object became readable (its write was published, or restored): the policy tracks it. */
  enpolicy(s: SlotId): void {
    this.policy.onInsert(s);
    if (this.locks.readCount(s) === 0) this.evictableBytes += this.slots.blockBytesOf(s);
  }

  /** The object stops being readable (rewritten or about to go). */
  unpolicy(s: SlotId): void {
    if (!this.policy.has(s)) return;
    this.policy.onRemove(s);
    if (this.locks.readCount(s) === 0) this.evictableBytes -= this.slots.blockBytesOf(s);
  }

  /**
   * Whether an object may be evicted now: ready and not read-locked. Every eviction asks the policy
   * with it and checks the victim with it again, so a policy that ignores it cannot get a locked
   * object evicted.
   */
  readonly evictable = (s: SlotId): boolean => {
    const ints = this.slots.ints;
    return ints[s * I_STRIDE + I_STATE] === STATE_READY && ints[s * I_STRIDE + I_READ_COUNT] === 0;
  };

  /** The next object to evict, or -1 when none is evictable. */
  nextVictim(): SlotId | -1 {
    // Evictable objects: the policy's ready ones less the read-locked ones (all in the policy).
    if (this.policy.size - this.readLocked <= 0) return -1;
    const victim = this.policy.coldest(this.evictable);
    if (victim < 0) return -1;
    if (!this.evictable(victim as SlotId)) {
      // A policy that does not honour `evictable`: evict nothing rather than a locked object.
      if (log.enabled) log('eviction policy %s offered slot %d, which is not evictable; nothing evicted', this.policy.name, victim);
      return -1;
    }
    return victim;
  }

  evictOne(victim: SlotId, reason: EvictionReason): number {
    const size = this.slots.blockBytesOf(victim);
    if (this.metrics.sampleEviction()) {
      const now = this.now();
      this.metrics.recordEviction(now - this.slots.writtenAt(victim), now - this.slots.usedAt(victim));
      this.metrics.noteEvicted(this.slots.keys[victim]!.chunkHash, now);
    }
    this.dispatch.queueEvicted(this.slots.keys[victim]!, reason);
    this.stats.countEvicted(reason, 1);
    this.removeObject(victim);
    return size;
  }

  /** Whether a new key fits the key budget, after evicting cold objects if it must. */
  roomForKey(key: ObjectKey): boolean {
    const limit = this.options.maxKeyBytes - keyChargeBytes(key);
    while (this.slots.keyBytes > limit) {
      const victim = this.nextVictim();
      if (victim < 0) return false;
      this.evictOne(victim as SlotId, 'on_demand');
    }
    return true;
  }

  evictBytes(bytes: number, reason: EvictionReason): void {
    let freed = 0;
    while (freed < bytes) {
      const victim = this.nextVictim();
      if (victim < 0) break;
      freed += this.evictOne(victim as SlotId, reason);
    }
  }

  /** After a write: evicts down when usage passed the watermark. */
  runWatermark(): void {
    const toFree = this.watermark.bytesToFree(this.allocator.usedBytes, this.evictableBytes);
    if (toFree > 0) {
      this.stats.evictionRunsWatermark++;
      this.evictBytes(toFree, 'watermark');
    }
  }

  /**
   * How every batch call begins: the manager is open and the keys (and generations) are well formed
   * before anything changes. Returns the call's metrics start time.
   */
  begin(method: string, operation: number, keys: readonly ObjectKey[], generations?: ArrayLike<number>): number {
    this.assertOpen(method);
    checkKeys(keys);
    checkGenerations(keys, generations);
    return this.metrics.startBatch(operation);
  }

  /**
   * How every batch call ends: listeners of `event` told the per-key results (`wanted` is its
   * dispatch bit; 0 tells no one), evictions the call caused announced, the call recorded.
   */
  end(operation: number, start: number, wanted: number, event: KeysMethod, keys: readonly ObjectKey[], results: readonly L1KeyResult<unknown>[]): void {
    if (wanted !== 0 && this.dispatch.wants(wanted)) this.dispatch.notify(event, keys, results);
    this.dispatch.flushEvicted();
    this.metrics.recordBatch(operation, start);
  }

  /** How a single-key call ends: as `end`, for one key, allocating only when a listener wants it. */
  endOne(operation: number, start: number, wanted: number, event: KeysMethod, key: ObjectKey, result: L1KeyResult<unknown>): void {
    if (wanted !== 0 && result.code === 'SUCCESS' && this.dispatch.wants(wanted)) this.dispatch.emit(event, [key]);
    this.dispatch.flushEvicted();
    this.metrics.recordBatch(operation, start);
  }

  assertOpen(operation: string): void {
    if (this.closed) throw new ClosedError('L1Manager', operation);
  }

  #listenerFailed(method: string, err: unknown): void {
    this.stats.listenerErrors++;
    if (log.enabled) log('listener %s threw (isolated): %s', method, err instanceof Error ? err.stack : String(err));
  }
}
