import type { SlotId } from '../eviction/eviction-policy.js';

/**
 * TTL'd locks per slot, after LMCache's TTLLock: a write lock with an expiry, and a read count
 * whose expiry is pushed back by every new read lock. A lock past its expiry no longer holds (a
 * crashed client cannot pin memory); the L1 manager reclaims such locks lazily when it touches the
 * object and in a periodic sweep. Times are milliseconds from the injected clock.
 */
export class LockTable {
  readonly writeTtlMs: number;
  readonly readTtlMs: number;
  writeExpiry = new Float64Array(0);
  readCount = new Uint32Array(0);
  readExpiry = new Float64Array(0);

  constructor(writeTtlMs: number, readTtlMs: number) {
    this.writeTtlMs = writeTtlMs;
    this.readTtlMs = readTtlMs;
  }

  resize(capacity: number): void {
    if (capacity <= this.readCount.length) return;
    const writeExpiry = new Float64Array(capacity);
    writeExpiry.set(this.writeExpiry);
    const readCount = new Uint32Array(capacity);
    readCount.set(this.readCount);
    const readExpiry = new Float64Array(capacity);
    readExpiry.set(this.readExpiry);
    this.writeExpiry = writeExpiry;
    this.readCount = readCount;
    this.readExpiry = readExpiry;
  }

  lockWrite(slot: SlotId, now: number): void {
    this.writeExpiry[slot] = now + this.writeTtlMs;
  }

  writeExpired(slot: SlotId, now: number): boolean {
    return this.writeExpiry[slot]! <= now;
  }

  /** Adds `count` read locks and restarts the read TTL; returns the new count. */
  lockRead(slot: SlotId, count: number, now: number): number {
    this.readExpiry[slot] = now + this.readTtlMs;
    return (this.readCount[slot]! += count);
  }

  /** Releases up to `count` read locks; returns the remaining count. */
  unlockRead(slot: SlotId, count: number): number {
    const left = Math.max(0, this.readCount[slot]! - count);
    this.readCount[slot] = left;
    return left;
  }

  readLocked(slot: SlotId): boolean {
    return this.readCount[slot]! > 0;
  }

  readExpired(slot: SlotId, now: number): boolean {
    return this.readCount[slot]! > 0 && this.readExpiry[slot]! <= now;
  }

  clear(slot: SlotId): void {
    this.writeExpiry[slot] = 0;
    this.readCount[slot] = 0;
    this.readExpiry[slot] = 0;
  }
}
