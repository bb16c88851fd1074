import type { SlotId } from '../eviction/eviction-policy.js';
import { F_GENERATION, F_LOCK_EXPIRY, F_STRIDE, I_READ_COUNT, I_STRIDE, type SlotTable } from './slot-table.js';

/**
 * TTL'd locks per slot, after LMCache's TTLLock: a write lock with an expiry, and a read count
 * whose expiry is pushed back by every new read lock. A lock past its expiry no longer holds (a
 * crashed client cannot pin memory); the L1 manager reclaims such locks lazily when it touches the
 * object and in a periodic sweep. Times are milliseconds from the injected clock.
 *
 * The fields live in the slot's record in the SlotTable (one cache line per object): a read
 * count, one expiry (of the write lock while the object is write-locked, of its read locks while
 * it is read-locked: never both) and a generation.
 *
 * Every slot also carries a lock generation, drawn from the table's counter (exact up to
 * 2^53): a new one whenever a write lock is taken or released, read locks expire, or the
 * slot is cleared. A holder remembers the generation it locked under; a lock that expired or was
 * reissued since then no longer matches, so it is neither handed out nor released twice.
 */
export class LockTable {
  readonly writeTtlMs: number;
  readonly readTtlMs: number;
  readonly #slots: SlotTable;
  #nextGeneration = 1;

  constructor(slots: SlotTable, writeTtlMs: number, readTtlMs: number) {
    this.#slots = slots;
    this.writeTtlMs = writeTtlMs;
    this.readTtlMs = readTtlMs;
  }

  lockWrite(slot: SlotId, now: number): void {
    const f = this.#slots.floats;
    f[slot * F_STRIDE + F_LOCK_EXPIRY] = now + this.writeTtlMs;
    f[slot * F_STRIDE + F_GENERATION] = this.#nextGeneration++;
  }

  unlockWrite(slot: SlotId): void {
    const f = this.#slots.floats;
    f[slot * F_STRIDE + F_LOCK_EXPIRY] = 0;
    f[slot * F_STRIDE + F_GENERATION] = this.#nextGeneration++;
  }

  /** The slot's lock generation (see the class comment). */
  generation(slot: SlotId): number {
    return this.#slots.floats[slot * F_STRIDE + F_GENERATION]!;
  }

  /** Whether the write lock expired (asked only while the object is write-locked). */
  writeExpired(slot: SlotId, now: number): boolean {
    return this.#slots.floats[slot * F_STRIDE + F_LOCK_EXPIRY]! <= now;
  }

  readCount(slot: SlotId): number {
    return this.#slots.ints[slot * I_STRIDE + I_READ_COUNT]!;
  }

  /** Adds `count` read locks and restarts the read TTL; returns the new count. */
  lockRead(slot: SlotId, count: number, now: number): number {
    this.#slots.floats[slot * F_STRIDE + F_LOCK_EXPIRY] = now + this.readTtlMs;
    return (this.#slots.ints[slot * I_STRIDE + I_READ_COUNT]! += count);
  }

  /** Releases up to `count` read locks; returns the remaining count. */
  unlockRead(slot: SlotId, count: number): number {
    const ints = this.#slots.ints;
    const i = slot * I_STRIDE + I_READ_COUNT;
    const left = ints[i]! > count ? ints[i]! - count : 0;
    ints[i] = left;
    return left;
  }

  /** Drops every read lock (they expired). */
  dropReads(slot: SlotId): void {
    this.#slots.ints[slot * I_STRIDE + I_READ_COUNT] = 0;
    this.#slots.floats[slot * F_STRIDE + F_GENERATION] = this.#nextGeneration++;
  }

  readLocked(slot: SlotId): boolean {
    return this.#slots.ints[slot * I_STRIDE + I_READ_COUNT]! > 0;
  }

  readExpired(slot: SlotId, now: number): boolean {
    return this.#slots.ints[slot * I_STRIDE + I_READ_COUNT]! > 0 && this.#slots.floats[slot * F_STRIDE + F_LOCK_EXPIRY]! <= now;
  }

  clear(slot: SlotId): void {
    const f = this.#slots.floats;
    this.#slots.ints[slot * I_STRIDE + I_READ_COUNT] = 0;
    f[slot * F_STRIDE + F_LOCK_EXPIRY] = 0;
    f[slot * F_STRIDE + F_GENERATION] = this.#nextGeneration++;
  }
}
