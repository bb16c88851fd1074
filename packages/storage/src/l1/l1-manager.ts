// SKELETON: signatures fixed for parallel work; the storage-L1 helper implements the bodies.
import type { MemoryLayout, ObjectKey, TelemetryOptions } from '@tierkv/core';
import type { L1KeyResult } from './l1-result.js';
import type { L1Listener } from './l1-listener.js';
import type { MemoryObj } from './memory-obj.js';

/** `new`: only keys not present; `update`: only keys present and ready; `all`: both. */
export type WriteMode = 'new' | 'update' | 'all';

export interface L1Options {
  /** Arena size in bytes. Required. */
  capacityBytes: number;
  /** Allocation alignment in bytes (power of two). @default 256 */
  alignBytes?: number;
  /** Write-lock TTL in ms; a writer that never finishes loses its reservation after it. @default 600_000 */
  writeLockTtlMs?: number;
  /** Read-lock TTL in ms. @default 300_000 */
  readLockTtlMs?: number;
  /** Eviction policy name or instance. @default 'lru' */
  eviction?: 'lru' | import('../eviction/eviction-policy.js').EvictionPolicy;
  /** Usage fraction at which the watermark loop starts evicting. @default 0.8 */
  triggerWatermark?: number;
  /** Fraction of capacity the watermark loop frees once triggered. @default 0.1 */
  evictionRatio?: number;
  /** Clock for lock TTLs (tests inject one). @default performance.now */
  now?: () => number;
}

export interface L1Usage {
  readonly usedBytes: number;
  readonly capacityBytes: number;
  readonly objects: number;
  readonly byState: { readonly writeLocked: number; readonly ready: number; readonly readLocked: number };
}

export interface MemcheckReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** Byte-bounded in-memory tier: arena + allocator + object state machine + eviction. Synchronous. */
export class L1Manager {
  constructor(options: L1Options, telemetry: TelemetryOptions = {}) {
    void options;
    void telemetry;
    throw new Error('not implemented');
  }
  /** Reserves memory for each key (write-locked). `temporary` objects are freed after their last read. */
  reserveWrite(_keys: readonly ObjectKey[], _layout: MemoryLayout, _mode: WriteMode = 'new', _options: { temporary?: boolean } = {}): L1KeyResult<MemoryObj>[] {
    throw new Error('not implemented');
  }
  /** write-locked → ready. */
  finishWrite(_keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    throw new Error('not implemented');
  }
  /** write-locked → absent, memory freed (a writer gives up). */
  abortWrite(_keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    throw new Error('not implemented');
  }
  /** ready / read-locked → read-locked (count + 1). */
  reserveRead(_keys: readonly ObjectKey[]): L1KeyResult<MemoryObj>[] {
    throw new Error('not implemented');
  }
  /** read-locked (count - 1); a temporary object is freed when its count reaches 0. */
  finishRead(_keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    throw new Error('not implemented');
  }
  /** write-locked → read-locked (count 1) in one step. */
  finishWriteAndReserveRead(_keys: readonly ObjectKey[]): L1KeyResult<MemoryObj>[] {
    throw new Error('not implemented');
  }
  /** ready → absent. Locked keys answer KEY_IS_LOCKED. */
  delete(_keys: readonly ObjectKey[]): L1KeyResult<void>[] {
    throw new Error('not implemented');
  }
  /** Whether each key is ready or read-locked (readable), without taking a lock. */
  contains(_keys: readonly ObjectKey[]): boolean[] {
    throw new Error('not implemented');
  }
  /** Deletes every unlocked object; returns how many were removed. */
  clear(): number {
    throw new Error('not implemented');
  }
  usage(): L1Usage {
    throw new Error('not implemented');
  }
  memcheck(): MemcheckReport {
    throw new Error('not implemented');
  }
  addListener(_listener: L1Listener): () => void {
    throw new Error('not implemented');
  }
  /** Frees the arena and stops timers; later calls throw ClosedError. */
  close(): void {
    throw new Error('not implemented');
  }
}
