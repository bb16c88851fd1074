import { ATTR, DurationSampler, isNoopHistogram, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { EvictionReason } from './l1-listener.js';
import type { L1Usage } from './l1-usage.js';

/** Plain counters the L1 hot path bumps; read by the observable instruments at collection time. */
export class L1Stats {
  reads = 0;
  writes = 0;
  missesNotFound = 0;
  missesWriteLocked = 0;
  deleted = 0;
  allocationFailures = 0;
  evictedWatermark = 0;
  evictedOnDemand = 0;
  evictedLockExpired = 0;
  evictedTemporary = 0;
  evictionRunsWatermark = 0;
  evictionRunsOnDemand = 0;
  writeLocksExpired = 0;
  readLocksExpired = 0;
  listenerErrors = 0;
  /** Calls by operation (index: OP_*). */
  readonly batches = new Float64Array(L1_OPERATIONS.length);

  countEvicted(reason: EvictionReason, n: number): void {
    switch (reason) {
      case 'watermark':
        this.evictedWatermark += n;
        break;
      case 'on_demand':
        this.evictedOnDemand += n;
        break;
      case 'lock_expired':
        this.evictedLockExpired += n;
        break;
      case 'temporary_released':
        this.evictedTemporary += n;
        break;
    }
  }
}

/** The `tierkv.l1.operation` attribute of tierkv.l1.batches and tierkv.l1.batch.duration (closed set). */
export const L1_OPERATIONS = [
  'reserve_write',
  'finish_write',
  'abort_write',
  'reserve_read',
  'finish_read',
  'finish_write_and_reserve_read',
  'delete',
] as const;
export type L1Operation = (typeof L1_OPERATIONS)[number];

/** Operation indexes for the hot path. */
export const OP_RESERVE_WRITE = 0;
export const OP_FINISH_WRITE = 1;
export const OP_ABORT_WRITE = 2;
export const OP_RESERVE_READ = 3;
export const OP_FINISH_READ = 4;
export const OP_FINISH_WRITE_AND_RESERVE_READ = 5;
export const OP_DELETE = 6;

// Attribute objects made once: recording a batch allocates nothing of ours.
const OPERATION_ATTRIBUTES: readonly Attributes[] = L1_OPERATIONS.map((operation) => Object.freeze({ [ATTR.L1_OPERATION]: operation }));

/** How long an evicted chunk is waited for (LMCache's max_evict_reuse_wait). */
const MAX_REUSE_WAIT_MS = 300_000;
/** Sampled evicted chunks remembered at most. */
const MAX_AWAITING_REUSE = 4096;

/** One evicted chunk (and one finished read) in this many is recorded in the chunk histograms (LMCache samples too). */
const EVICTION_SAMPLE_MASK = 15;

const A = (attributes: Attributes): Attributes => Object.freeze(attributes);
const NOT_FOUND = A({ [ATTR.L1_MISS_REASON]: 'not_found' });
const WRITE_LOCKED_REASON = A({ [ATTR.L1_MISS_REASON]: 'write_locked' });
const WATERMARK = A({ [ATTR.L1_EVICTION_REASON]: 'watermark' });
const ON_DEMAND = A({ [ATTR.L1_EVICTION_REASON]: 'on_demand' });
const LOCK_EXPIRED = A({ [ATTR.L1_EVICTION_REASON]: 'lock_expired' });
const TEMPORARY = A({ [ATTR.L1_EVICTION_REASON]: 'temporary_released' });
const TRIGGER_WATERMARK = A({ [ATTR.L1_EVICTION_REASON]: 'watermark' });
const TRIGGER_ON_DEMAND = A({ [ATTR.L1_EVICTION_REASON]: 'on_demand' });
const STATE_WRITE_LOCKED = A({ [ATTR.L1_OBJECT_STATE]: 'write_locked' });
const STATE_READY = A({ [ATTR.L1_OBJECT_STATE]: 'ready' });
const STATE_READ_LOCKED = A({ [ATTR.L1_OBJECT_STATE]: 'read_locked' });
const LOCK_WRITE = A({ [ATTR.L1_LOCK_TYPE]: 'write' });
const LOCK_READ = A({ [ATTR.L1_LOCK_TYPE]: 'read' });

const OBSERVED = [
  'tierkv.l1.batches',
  'tierkv.l1.read',
  'tierkv.l1.write',
  'tierkv.l1.read.misses',
  'tierkv.l1.evicted',
  'tierkv.l1.deleted',
  'tierkv.l1.eviction.runs',
  'tierkv.l1.allocation.failures',
  'tierkv.l1.memory.used',
  'tierkv.l1.memory.limit',
  'tierkv.l1.memory.write_locked',
  'tierkv.l1.keys.used',
  'tierkv.l1.keys.limit',
  'tierkv.l1.objects',
  'tierkv.l1.lock.expired',
  'tierkv.l1.listener.errors',
] as const;

interface L1Instruments {
  batchDuration: Histogram;
  chunkLifetime: Histogram;
  chunkIdle: Histogram;
  chunkReuseGap: Histogram;
  chunkEvictReuseGap: Histogram;
  /** False while the provider is the API's no-op one: then batches are not even timed. */
  timing: boolean;
}

/** The L1 manager's instruments (`tierkv.l1.*`), bound late to the MeterProvider. */
export class L1Metrics {
  readonly #binding: MeterBinding<L1Instruments>;
  readonly #stats: L1Stats;
  /** At most one batch per operation is timed per millisecond; `tierkv.l1.batches` counts every one. */
  readonly #sampler = new DurationSampler(L1_OPERATIONS.length);
  #evictions = 0;
  #reuses = 0;
  /**
   * On top of 1 in 16, at most one sampled chunk a millisecond per histogram (index 0: evictions,
   * 1: reuses): a recording costs an SDK about a microsecond, as much as a whole single-key get, so
   * a count-only sample would let a fast loop of gets spend a fifth of its time recording.
   */
  readonly #chunkSampler = new DurationSampler(2);
  /** Sampled evicted chunks (by chunk hash) waiting to be written again, oldest first. */
  readonly #evictedAt = new Map<string, number>();

  constructor(stats: L1Stats, usage: () => L1Usage, telemetry: TelemetryOptions) {
    this.#stats = stats;
    this.#binding = new MeterBinding<L1Instruments>(
      { name: '@tierkv/storage', version: '0.1.0' },
      (f) => {
        f.observe(OBSERVED, (observe) => {
          for (let op = 0; op < L1_OPERATIONS.length; op++) observe('tierkv.l1.batches', stats.batches[op]!, OPERATION_ATTRIBUTES[op]);
          observe('tierkv.l1.read', stats.reads);
          observe('tierkv.l1.write', stats.writes);
          observe('tierkv.l1.read.misses', stats.missesNotFound, NOT_FOUND);
          observe('tierkv.l1.read.misses', stats.missesWriteLocked, WRITE_LOCKED_REASON);
          observe('tierkv.l1.evicted', stats.evictedWatermark, WATERMARK);
          observe('tierkv.l1.evicted', stats.evictedOnDemand, ON_DEMAND);
          observe('tierkv.l1.evicted', stats.evictedLockExpired, LOCK_EXPIRED);
          observe('tierkv.l1.evicted', stats.evictedTemporary, TEMPORARY);
          observe('tierkv.l1.deleted', stats.deleted);
          observe('tierkv.l1.eviction.runs', stats.evictionRunsWatermark, TRIGGER_WATERMARK);
          observe('tierkv.l1.eviction.runs', stats.evictionRunsOnDemand, TRIGGER_ON_DEMAND);
          observe('tierkv.l1.allocation.failures', stats.allocationFailures);
          observe('tierkv.l1.lock.expired', stats.writeLocksExpired, LOCK_WRITE);
          observe('tierkv.l1.lock.expired', stats.readLocksExpired, LOCK_READ);
          observe('tierkv.l1.listener.errors', stats.listenerErrors);
          const u = usage();
          observe('tierkv.l1.memory.used', u.usedBytes);
          observe('tierkv.l1.memory.limit', u.capacityBytes);
          observe('tierkv.l1.memory.write_locked', u.writeLockedBytes ?? 0);
          observe('tierkv.l1.keys.used', u.keyBytes ?? 0);
          observe('tierkv.l1.keys.limit', u.keyBytesLimit ?? 0);
          observe('tierkv.l1.objects', u.byState.writeLocked, STATE_WRITE_LOCKED);
          observe('tierkv.l1.objects', u.byState.ready, STATE_READY);
          observe('tierkv.l1.objects', u.byState.readLocked, STATE_READ_LOCKED);
        });
        const batchDuration = f.histogram('tierkv.l1.batch.duration');
        return {
          batchDuration,
          chunkLifetime: f.histogram('tierkv.l1.chunk.lifetime'),
          chunkIdle: f.histogram('tierkv.l1.chunk.idle'),
          chunkReuseGap: f.histogram('tierkv.l1.chunk.reuse_gap'),
          chunkEvictReuseGap: f.histogram('tierkv.l1.chunk.evict_reuse_gap'),
          timing: !isNoopHistogram(batchDuration),
        };
      },
      telemetry,
    );
  }

  /**
   * Counts a call of `op` and returns its start time when this call is to be timed, else 0 (no SDK
   * listening, or one call of the operation was timed within the last millisecond).
   */
  startBatch(op: number): number {
    this.#stats.batches[op]!++;
    return this.#binding.instruments.timing ? this.#sampler.start(op) : 0;
  }

  /** Records the duration of a call that startBatch chose to time. */
  recordBatch(op: number, startMs: number): void {
    if (startMs === 0) return;
    this.#binding.instruments.batchDuration.record((performance.now() - startMs) / 1000, OPERATION_ATTRIBUTES[op]);
  }

  /** Whether the eviction about to happen is one to record (an SDK listens, 1 in 16, at most one a millisecond). */
  sampleEviction(): boolean {
    return this.#binding.instruments.timing && (this.#evictions++ & EVICTION_SAMPLE_MASK) === 0 && this.#chunkSampler.start(0) !== 0;
  }

  /** Records a sampled eviction: milliseconds since the chunk was written and since it was last used. */
  recordEviction(lifetimeMs: number, idleMs: number): void {
    const i = this.#binding.instruments;
    i.chunkLifetime.record(Math.max(0, lifetimeMs) / 1000);
    i.chunkIdle.record(Math.max(0, idleMs) / 1000);
  }

  /** Whether the read release about to be counted is one to record (an SDK listens, 1 in 16, at most one a millisecond). */
  sampleReuse(): boolean {
    return this.#binding.instruments.timing && (this.#reuses++ & EVICTION_SAMPLE_MASK) === 0 && this.#chunkSampler.start(1) !== 0;
  }

  /** Records a sampled reuse: milliseconds since the chunk's previous use. */
  recordReuse(gapMs: number): void {
    this.#binding.instruments.chunkReuseGap.record(Math.max(0, gapMs) / 1000);
  }

  /** Whether sampled evicted chunks are waiting to be written again (checked before noteRewritten). */
  get awaitingReuse(): boolean {
    return this.#evictedAt.size > 0;
  }

  /** Remembers a sampled evicted chunk, to time how long until it is written again. */
  noteEvicted(chunkHash: string, nowMs: number): void {
    this.#expireWaiting(nowMs);
    this.#evictedAt.delete(chunkHash);
    if (this.#evictedAt.size >= MAX_AWAITING_REUSE) this.#evictedAt.delete(this.#evictedAt.keys().next().value!);
    this.#evictedAt.set(chunkHash, nowMs);
  }

  /** A chunk was written: if it was a sampled evicted one, records the eviction-to-reuse gap. */
  noteRewritten(chunkHash: string, nowMs: number): void {
    const evictedAt = this.#evictedAt.get(chunkHash);
    if (evictedAt === undefined) return;
    this.#evictedAt.delete(chunkHash);
    this.#binding.instruments.chunkEvictReuseGap.record(Math.min(Math.max(0, nowMs - evictedAt), MAX_REUSE_WAIT_MS) / 1000);
  }

  // Chunks not written again within MAX_REUSE_WAIT_MS are recorded at the cap, as LMCache does.
  #expireWaiting(nowMs: number): void {
    for (const [hash, at] of this.#evictedAt) {
      if (nowMs - at < MAX_REUSE_WAIT_MS) break;
      this.#evictedAt.delete(hash);
      this.#binding.instruments.chunkEvictReuseGap.record(MAX_REUSE_WAIT_MS / 1000);
    }
  }

  close(): void {
    this.#evictedAt.clear();
    this.#sampler.close();
    this.#chunkSampler.close();
    this.#binding.close();
  }
}
