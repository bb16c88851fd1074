import type { SlotId } from '../eviction/eviction-policy.js';

// Per slot: write expiry, read expiry, read count, lock generation, side by side (one cache line
// per slot touched).
const STRIDE = 4;
const WRITE_EXPIRY = 0;
const READ_EXPIRY = 1;
const READ_COUNT = 2;
const GENERATION = 3;

/**
 * TTL'd locks per slot, after LMCache's TTLLock: a write lock with an expiry, and a read count
 * whose expiry is pushed back by every new read lock. A lock past its expiry no longer holds (a
 * crashed client cannot pin memory); the L1 manager reclaims such locks lazily when it touches the
 * object and in a periodic sweep. Times are milliseconds from the injected clock.
 *
 * Every slot also carries a lock generation, drawn from the table's counter (exact up to
 * 2^53): a new one whenever a write lock is taken or released, read locks expire, or the
 * slot is cleared. A holder remembers the generation it locked under; a lock that expired or was
 * reissued since then no longer matches, so it is neither handed out nor released twice.
 */
export class LockTable {
  readonly writeTtlMs: number;
  readonly readTtlMs: number;
  #f = new Float64Array(0);

  constructor(writeTtlMs: number, readTtlMs: number) {
    this.writeTtlMs = writeTtlMs;
    this.readTtlMs = readTtlMs;
  }

  resize(capacity: number): void {
    if (capacity * STRIDE <= this.#f.length) return;
    const f = new Float64Array(capacity * STRIDE);
    f.set(this.#f);
    this.#f = f;
  }

  #nextGeneration = 1;

  lockWrite(slot: SlotId, now: number): void {
    this.#f[slot * STRIDE + WRITE_EXPIRY] = now + this.writeTtlMs;
    this.#f[slot * STRIDE + GENERATION] = this.#nextGeneration++;
  }

  unlockWrite(slot: SlotId): void {
    this.#f[slot * STRIDE + WRITE_EXPIRY] = 0;
    this.#f[slot * STRIDE + GENERATION] = this.#nextGeneration++;
  }

  /** The slot's lock generation (see the class comment). */
  generation(slot: SlotId): number {
    return this.#f[slot * STRIDE + GENERATION]!;
  }

  writeExpired(slot: SlotId, now: number): boolean {
    return this.#f[slot * STRIDE + WRITE_EXPIRY]! <= now;
  }

  readCount(slot: SlotId): number {
    return this.#f[slot * STRIDE + READ_COUNT]!;
  }

  /** Adds `count` read locks and restarts the read TTL; returns the new count. */
  lockRead(slot: SlotId, count: number, now: number): number {
    const base = slot * STRIDE;
    this.#f[base + READ_EXPIRY] = now + this.readTtlMs;
    return (this.#f[base + READ_COUNT]! += count);
  }

  /** Releases up to `count` read locks; returns the remaining count. */
  unlockRead(slot: SlotId, count: number): number {
    const i = slot * STRIDE + READ_COUNT;
    const left = Math.max(0, this.#f[i]! - count);
    this.#f[i] = left;
    return left;
  }

  /** Drops every read lock (they expired). */
  dropReads(slot: SlotId): void {
    this.#f[slot * STRIDE + READ_COUNT] = 0;
    this.#f[slot * STRIDE + GENERATION] = this.#nextGeneration++;
  }

  readLocked(slot: SlotId): boolean {
    return this.#f[slot * STRIDE + READ_COUNT]! > 0;
  }

  readExpired(slot: SlotId, now: number): boolean {
    const base = slot * STRIDE;
    return this.#f[base + READ_COUNT]! > 0 && this.#f[base + READ_EXPIRY]! <= now;
  }

  clear(slot: SlotId): void {
    const base = slot * STRIDE;
    this.#f[base + WRITE_EXPIRY] = 0;
    this.#f[base + READ_EXPIRY] = 0;
    this.#f[base + READ_COUNT] = 0;
    this.#f[base + GENERATION] = this.#nextGeneration++;
  }
}
