import { MeterBinding, type TelemetryOptions } from '@tierkv/core';
import { createNoopMeter, type Attributes, type Histogram } from '@opentelemetry/api';
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

/** The `operation` attribute of tierkv.l1.batch.duration (closed set). */
export type L1Operation =
  | 'reserve_write'
  | 'finish_write'
  | 'abort_write'
  | 'reserve_read'
  | 'finish_read'
  | 'finish_write_and_reserve_read'
  | 'delete';

// Attribute objects made once: recording a batch allocates nothing of ours.
const OPERATION_ATTRIBUTES: Record<L1Operation, Attributes> = Object.freeze({
  reserve_write: Object.freeze({ operation: 'reserve_write' }),
  finish_write: Object.freeze({ operation: 'finish_write' }),
  abort_write: Object.freeze({ operation: 'abort_write' }),
  reserve_read: Object.freeze({ operation: 'reserve_read' }),
  finish_read: Object.freeze({ operation: 'finish_read' }),
  finish_write_and_reserve_read: Object.freeze({ operation: 'finish_write_and_reserve_read' }),
  delete: Object.freeze({ operation: 'delete' }),
});

const A = (attributes: Attributes): Attributes => Object.freeze(attributes);
const NOT_FOUND = A({ reason: 'not_found' });
const WRITE_LOCKED_REASON = A({ reason: 'write_locked' });
const WATERMARK = A({ reason: 'watermark' });
const ON_DEMAND = A({ reason: 'on_demand' });
const LOCK_EXPIRED = A({ reason: 'lock_expired' });
const TEMPORARY = A({ reason: 'temporary_released' });
const TRIGGER_WATERMARK = A({ trigger: 'watermark' });
const TRIGGER_ON_DEMAND = A({ trigger: 'on_demand' });
const STATE_WRITE_LOCKED = A({ state: 'write_locked' });
const STATE_READY = A({ state: 'ready' });
const STATE_READ_LOCKED = A({ state: 'read_locked' });
const LOCK_WRITE = A({ lock: 'write' });
const LOCK_READ = A({ lock: 'read' });

const OBSERVED = [
  'tierkv.l1.read',
  'tierkv.l1.write',
  'tierkv.l1.read.misses',
  'tierkv.l1.evicted',
  'tierkv.l1.deleted',
  'tierkv.l1.eviction.runs',
  'tierkv.l1.allocation.failures',
  'tierkv.l1.memory.used',
  'tierkv.l1.memory.limit',
  'tierkv.l1.objects',
  'tierkv.l1.lock.expired',
  'tierkv.l1.listener.errors',
] as const;

interface L1Instruments {
  batchDuration: Histogram;
  /** False while the provider is the API's no-op one: then batches are not even timed. */
  timing: boolean;
}

const NOOP_HISTOGRAM = createNoopMeter().createHistogram('tierkv.noop');

/** The L1 manager's instruments (`tierkv.l1.*`), bound late to the MeterProvider. */
export class L1Metrics {
  readonly #binding: MeterBinding<L1Instruments>;

  constructor(stats: L1Stats, usage: () => L1Usage, telemetry: TelemetryOptions) {
    this.#binding = new MeterBinding<L1Instruments>(
      { name: '@tierkv/storage', version: '0.1.0' },
      (f) => {
        f.observe(OBSERVED, (observe) => {
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
          observe('tierkv.l1.objects', u.byState.writeLocked, STATE_WRITE_LOCKED);
          observe('tierkv.l1.objects', u.byState.ready, STATE_READY);
          observe('tierkv.l1.objects', u.byState.readLocked, STATE_READ_LOCKED);
        });
        const batchDuration = f.histogram('tierkv.l1.batch.duration');
        return { batchDuration, timing: batchDuration !== NOOP_HISTOGRAM };
      },
      telemetry,
    );
  }

  /**
   * The start time of a batch for `recordBatch`, or 0 when no SDK is listening (reading the clock
   * costs about as much as a small L1 operation).
   */
  startBatch(): number {
    return this.#binding.instruments.timing ? performance.now() : 0;
  }

  /** Records one batch that started at `startMs` (from startBatch). */
  recordBatch(operation: L1Operation, startMs: number): void {
    if (startMs === 0) return;
    this.#binding.instruments.batchDuration.record((performance.now() - startMs) / 1000, OPERATION_ATTRIBUTES[operation]);
  }

  close(): void {
    this.#binding.close();
  }
}
