import { ConfigError, refuseUnknownOptions } from '@tierkv/core';
import type { EvictionPolicy } from '../eviction/eviction-policy.js';

export interface L1Options {
  /** Arena size in bytes. Required. */
  capacityBytes: number;
  /** Allocation alignment in bytes (power of two). @default 256 */
  alignBytes?: number;
  /**
   * The arena is made of ArrayBuffers of this size, each created on first use; no object can be
   * larger than one segment. @default min(capacityBytes, 1 GiB)
   */
  segmentBytes?: number;
  /** Write-lock TTL in ms; a writer that never finishes loses its reservation after it. @default 600_000 */
  writeLockTtlMs?: number;
  /** Read-lock TTL in ms (counted from the latest reserveRead of the object). @default 300_000 */
  readLockTtlMs?: number;
  /** How often expired locks are reclaimed in the background (they are also reclaimed lazily). 0 disables the timer. @default 10_000 */
  lockSweepIntervalMs?: number;
  /**
   * Eviction policy: `clock` (second chance: a reference bit per object, set when it is written,
   * released by its last reader or touched), `lru` (exact least recently used; a lock and a release
   * relink a list), or your own EvictionPolicy instance. @default 'clock'
   */
  eviction?: 'clock' | 'lru' | EvictionPolicy;
  /** Usage fraction at which the watermark evictor starts evicting. @default 0.8 */
  triggerWatermark?: number;
  /** Fraction of capacity the watermark evictor frees once triggered. @default 0.1 */
  evictionRatio?: number;
  /**
   * Budget for the keys of the objects L1 holds (they live on the JS heap, outside the arena; see
   * keyChargeBytes). A new key that would pass it evicts cold objects, or is refused
   * OUT_OF_MEMORY when nothing can be evicted. The default lets every block of the smallest size
   * (alignBytes, 256) carry an ordinary key, so it limits only keys far longer than their chunks.
   * @default max(16 MiB, capacityBytes)
   */
  maxKeyBytes?: number;
  /** Clock for lock TTLs, in ms (tests inject one). @default performance.now */
  now?: () => number;
}

/** L1Options with every default applied and validated. */
export interface ResolvedL1Options {
  readonly capacityBytes: number;
  readonly alignBytes: number;
  readonly segmentBytes: number;
  readonly writeLockTtlMs: number;
  readonly readLockTtlMs: number;
  readonly lockSweepIntervalMs: number;
  readonly eviction: 'clock' | 'lru' | EvictionPolicy;
  readonly triggerWatermark: number;
  readonly evictionRatio: number;
  readonly maxKeyBytes: number;
  readonly now: () => number;
}

const GIB = 1024 * 1024 * 1024;

export const DEFAULT_L1_OPTIONS = Object.freeze({
  alignBytes: 256,
  maxSegmentBytes: GIB,
  writeLockTtlMs: 600_000,
  readLockTtlMs: 300_000,
  lockSweepIntervalMs: 10_000,
  eviction: 'clock' as const,
  triggerWatermark: 0.8,
  evictionRatio: 0.1,
  minKeyBytes: 16 * 1024 * 1024,
});

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(field, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveFinite(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(field, `expected a positive number of milliseconds, got ${JSON.stringify(value)}`);
  }
  return value;
}

function fraction(field: string, value: unknown, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value > 1 || value < 0 || (!allowZero && value === 0)) {
    throw new ConfigError(field, `expected a number in ${allowZero ? '[0, 1]' : '(0, 1]'}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Applies defaults and validates; errors name the offending option (`l1.capacityBytes`). */
export function resolveL1Options(options: L1Options): ResolvedL1Options {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('l1', 'expected an options object such as { capacityBytes: 256 * 1024 * 1024 }');
  }
  refuseUnknownOptions(options, ['capacityBytes', 'alignBytes', 'segmentBytes', 'writeLockTtlMs', 'readLockTtlMs', 'lockSweepIntervalMs', 'eviction', 'triggerWatermark', 'evictionRatio', 'maxKeyBytes', 'now'], 'l1');
  const capacityBytes = positiveInteger('l1.capacityBytes', options.capacityBytes);
  const alignBytes = positiveInteger('l1.alignBytes', options.alignBytes ?? DEFAULT_L1_OPTIONS.alignBytes);
  if ((alignBytes & (alignBytes - 1)) !== 0 || alignBytes > 1 << 30) {
    throw new ConfigError('l1.alignBytes', `expected a power of two up to 2^30, got ${alignBytes}`);
  }
  if (capacityBytes < alignBytes) {
    throw new ConfigError('l1.capacityBytes', `must be at least l1.alignBytes (${alignBytes}), got ${capacityBytes}`);
  }
  let segmentBytes = options.segmentBytes === undefined ? Math.min(capacityBytes, DEFAULT_L1_OPTIONS.maxSegmentBytes) : positiveInteger('l1.segmentBytes', options.segmentBytes);
  if (segmentBytes > 2 * GIB) {
    throw new ConfigError('l1.segmentBytes', `must be at most 2 GiB (one ArrayBuffer), got ${segmentBytes}`);
  }
  // Segments hold whole aligned blocks; round down to the alignment.
  segmentBytes = Math.floor(segmentBytes / alignBytes) * alignBytes;
  if (segmentBytes < alignBytes) {
    throw new ConfigError('l1.segmentBytes', `must be at least l1.alignBytes (${alignBytes})`);
  }
  const eviction = options.eviction ?? DEFAULT_L1_OPTIONS.eviction;
  if (eviction !== 'clock' && eviction !== 'lru' && (eviction === null || typeof eviction !== 'object' || typeof eviction.coldest !== 'function')) {
    throw new ConfigError('l1.eviction', `expected 'clock', 'lru' or an EvictionPolicy instance, got ${JSON.stringify(eviction)}`);
  }
  const now = options.now ?? (() => performance.now());
  if (typeof now !== 'function') throw new ConfigError('l1.now', 'expected a function returning milliseconds');
  const lockSweepIntervalMs = options.lockSweepIntervalMs ?? DEFAULT_L1_OPTIONS.lockSweepIntervalMs;
  if (typeof lockSweepIntervalMs !== 'number' || !Number.isFinite(lockSweepIntervalMs) || lockSweepIntervalMs < 0) {
    throw new ConfigError('l1.lockSweepIntervalMs', `expected a number of milliseconds >= 0 (0 disables the sweep), got ${JSON.stringify(lockSweepIntervalMs)}`);
  }
  return {
    capacityBytes,
    alignBytes,
    segmentBytes,
    writeLockTtlMs: positiveFinite('l1.writeLockTtlMs', options.writeLockTtlMs ?? DEFAULT_L1_OPTIONS.writeLockTtlMs),
    readLockTtlMs: positiveFinite('l1.readLockTtlMs', options.readLockTtlMs ?? DEFAULT_L1_OPTIONS.readLockTtlMs),
    lockSweepIntervalMs,
    eviction,
    triggerWatermark: fraction('l1.triggerWatermark', options.triggerWatermark ?? DEFAULT_L1_OPTIONS.triggerWatermark, false),
    evictionRatio: fraction('l1.evictionRatio', options.evictionRatio ?? DEFAULT_L1_OPTIONS.evictionRatio, true),
    maxKeyBytes: positiveInteger('l1.maxKeyBytes', options.maxKeyBytes ?? Math.max(DEFAULT_L1_OPTIONS.minKeyBytes, capacityBytes)),
    now,
  };
}
