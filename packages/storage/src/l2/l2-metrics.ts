import { ATTR, DurationSampler, isNoopHistogram, MeterBinding, type MeterScope, type TelemetryOptions } from '@tierkv/core';
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { L2Usage } from './l2-adapter.js';
import { L2_FAILURE_REASONS, type L2FailureReason } from './l2-failure.js';

/** The instrumentation scope of every `@tierkv/storage` module. */
export const L2_METER_SCOPE: MeterScope = Object.freeze({ name: '@tierkv/storage', version: '0.1.0' });

/** The operations of the `tierkv.l2.operation` attribute (a closed set). */
export const L2_OPERATIONS = ['store', 'load', 'lookup', 'unlock', 'delete', 'clear'] as const;
export type L2MetricOperation = (typeof L2_OPERATIONS)[number];

type PerOperation = Record<L2MetricOperation, number>;
const zeros = (): PerOperation => ({ store: 0, load: 0, lookup: 0, unlock: 0, delete: 0, clear: 0 });

/** Failed keys of one operation, by reason. */
export type FailuresByReason = Record<L2FailureReason, number>;
const reasonZeros = (): FailuresByReason => Object.fromEntries(L2_FAILURE_REASONS.map((r) => [r, 0])) as FailuresByReason;

/** Index of each operation in the duration sampler. */
const OPERATION_INDEX = Object.fromEntries(L2_OPERATIONS.map((op, i) => [op, i])) as Record<L2MetricOperation, number>;

interface L2Instruments {
  duration: Histogram;
  /** False while the provider is the API's no-op one: then calls are not even timed. */
  timing: boolean;
}

/**
 * The standard `tierkv.l2.*` figures of one adapter. Hot paths bump plain numbers; observable
 * instruments read them at collection time; the duration histogram is sampled (startCall).
 */
export class L2Metrics {
  readonly operations = zeros();
  /** Failed keys by operation and reason (`tierkv.l2.failures`); see countFailures. */
  readonly failures = Object.fromEntries(L2_OPERATIONS.map((op) => [op, reasonZeros()])) as Record<L2MetricOperation, FailuresByReason>;
  readonly inflight = zeros();
  lookupHits = 0;
  lookupMisses = 0;
  stored = 0;
  loaded = 0;
  bytesIn = 0;
  bytesOut = 0;

  readonly #binding: MeterBinding<L2Instruments>;
  /**
   * At most one call per operation is timed per millisecond, as in L1: with two readers, timing
   * every call was 6% of a fast adapter's throughput. `tierkv.l2.operations` counts every call.
   */
  readonly #sampler = new DurationSampler(L2_OPERATIONS.length);
  readonly #attrs: Attributes;
  readonly #opAttrs: Record<L2MetricOperation, Attributes>;
  readonly #failureAttrs: Record<L2MetricOperation, Record<L2FailureReason, Attributes>>;

  constructor(adapter: string, usage: () => L2Usage, telemetry: TelemetryOptions = {}) {
    const a = ATTR.L2_ADAPTER;
    this.#attrs = { [a]: adapter };
    this.#opAttrs = Object.fromEntries(L2_OPERATIONS.map((op) => [op, { [a]: adapter, [ATTR.L2_OPERATION]: op }])) as unknown as Record<L2MetricOperation, Attributes>;
    this.#failureAttrs = Object.fromEntries(
      L2_OPERATIONS.map((op) => [op, Object.fromEntries(L2_FAILURE_REASONS.map((r) => [r, { [a]: adapter, [ATTR.L2_OPERATION]: op, [ATTR.L2_FAILURE_REASON]: r }]))]),
    ) as unknown as Record<L2MetricOperation, Record<L2FailureReason, Attributes>>;
    const hit = { [a]: adapter, [ATTR.L2_LOOKUP_RESULT]: 'hit' };
    const miss = { [a]: adapter, [ATTR.L2_LOOKUP_RESULT]: 'miss' };
    const dirIn = { [a]: adapter, [ATTR.L2_DIRECTION]: 'in' };
    const dirOut = { [a]: adapter, [ATTR.L2_DIRECTION]: 'out' };
    this.#binding = new MeterBinding(
      L2_METER_SCOPE,
      (f) => {
        f.observe(
          [
            'tierkv.l2.operations',
            'tierkv.l2.failures',
            'tierkv.l2.inflight',
            'tierkv.l2.lookups',
            'tierkv.l2.stored',
            'tierkv.l2.loaded',
            'tierkv.l2.bytes',
            'tierkv.l2.usage',
            'tierkv.l2.capacity',
            'tierkv.l2.objects',
          ],
          (observe) => {
            for (const op of L2_OPERATIONS) {
              const attrs = this.#opAttrs[op];
              observe('tierkv.l2.operations', this.operations[op], attrs);
              // `other` always (the zero baseline dashboards and rate() need), any other reason once
              // it occurred: 9 × 6 series of zeros would be noise. Counters only grow, so a series
              // once reported stays reported.
              const byReason = this.failures[op];
              for (const r of L2_FAILURE_REASONS) if (r === 'other' || byReason[r] > 0) observe('tierkv.l2.failures', byReason[r], this.#failureAttrs[op][r]);
              observe('tierkv.l2.inflight', this.inflight[op], attrs);
            }
            observe('tierkv.l2.lookups', this.lookupHits, hit);
            observe('tierkv.l2.lookups', this.lookupMisses, miss);
            observe('tierkv.l2.stored', this.stored, this.#attrs);
            observe('tierkv.l2.loaded', this.loaded, this.#attrs);
            observe('tierkv.l2.bytes', this.bytesIn, dirIn);
            observe('tierkv.l2.bytes', this.bytesOut, dirOut);
            const u = usage();
            observe('tierkv.l2.usage', u.usedBytes, this.#attrs);
            observe('tierkv.l2.objects', u.objects, this.#attrs);
            if (u.capacityBytes !== undefined) observe('tierkv.l2.capacity', u.capacityBytes, this.#attrs);
          },
        );
        const duration = f.histogram('tierkv.l2.operation.duration');
        return { duration, timing: !isNoopHistogram(duration) };
      },
      telemetry,
    );
  }

  /** Adds `n` failed keys of `operation` for `reason`. */
  countFailures(operation: L2MetricOperation, reason: L2FailureReason, n = 1): void {
    this.failures[operation][reason] += n;
  }

  /** Failed keys of `operation`, over every reason. */
  failuresOf(operation: L2MetricOperation): number {
    let n = 0;
    for (const r of L2_FAILURE_REASONS) n += this.failures[operation][r];
    return n;
  }

  /**
   * Counts a call of `operation` and returns its start time when this call is to be timed, else 0
   * (no SDK listening, or one call of the operation was timed within the last millisecond).
   */
  startCall(operation: L2MetricOperation): number {
    this.operations[operation]++;
    return this.#binding.instruments.timing ? this.#sampler.start(OPERATION_INDEX[operation]) : 0;
  }

  /** Records the duration of a call that startCall chose to time. Never throws. */
  endCall(operation: L2MetricOperation, startMs: number): void {
    if (startMs === 0) return;
    try {
      this.#binding.instruments.duration.record((performance.now() - startMs) / 1000, this.#opAttrs[operation]);
    } catch {
      // A metric must never fail a store or a load.
    }
  }

  close(): void {
    this.#sampler.close();
    this.#binding.close();
  }
}

/**
 * What only an adapter that keeps its own objects can see: objects found corrupt on load and
 * objects evicted for its budget (`tierkv.l2.corrupt`, `tierkv.l2.evicted`). Bumped on the
 * adapter's paths, read at collection time.
 */
export class L2AdapterCounts {
  corrupt = 0;
  evicted = 0;
  readonly #adapter: string;
  #binding: MeterBinding<void>;
  #explicit: boolean;

  constructor(adapter: string, telemetry: TelemetryOptions = {}) {
    this.#adapter = adapter;
    this.#explicit = telemetry.meterProvider !== undefined;
    this.#binding = this.#bind(telemetry);
  }

  /**
   * Reports through the provider of the StorageManager that uses the adapter, unless the adapter
   * was given a provider of its own (that one wins).
   */
  bindTelemetry(telemetry: TelemetryOptions): void {
    if (this.#explicit || telemetry.meterProvider === undefined) return;
    this.#explicit = true;
    this.#binding.close();
    this.#binding = this.#bind(telemetry);
  }

  #bind(telemetry: TelemetryOptions): MeterBinding<void> {
    const attrs = { [ATTR.L2_ADAPTER]: this.#adapter };
    return new MeterBinding(
      L2_METER_SCOPE,
      (f) => {
        f.observe(['tierkv.l2.corrupt', 'tierkv.l2.evicted'], (observe) => {
          observe('tierkv.l2.corrupt', this.corrupt, attrs);
          observe('tierkv.l2.evicted', this.evicted, attrs);
        });
      },
      telemetry,
    );
  }

  close(): void {
    this.#binding.close();
  }
}
