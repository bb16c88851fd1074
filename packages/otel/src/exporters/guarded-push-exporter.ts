import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Histogram } from '@opentelemetry/api';
import { ATTR } from '@tierkv/core';
import type { ExportHealth, HealthExporter } from '../health/export-health.js';

export interface GuardedPushExporterOptions {
  readonly exporter: HealthExporter;
  readonly health: ExportHealth;
  /** Exports allowed in flight at once; more fail fast, so a dead endpoint cannot pile up batches. */
  readonly maxInFlight: number;
  /** An export pending longer than this is given up (counted as failed, its slot freed). */
  readonly abandonAfterMillis: number;
  /** At most one failure log line per this many ms. */
  readonly logIntervalMillis: number;
  readonly warn: (message: string) => void;
  /** Where the export duration is recorded (set once the provider exists). */
  duration?: () => Histogram | undefined;
  readonly now?: () => number;
}

/**
 * Wraps a push exporter so that its failures never escape: each export is timed and counted, at
 * most `maxInFlight` exports are pending (the rest fail at once instead of queueing, which bounds
 * memory when the endpoint is down), and failures are logged at most once per interval, with the
 * count since the last log line.
 */
export class GuardedPushExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly #opts: GuardedPushExporterOptions;
  readonly #now: () => number;
  /** Start time of each pending export. */
  readonly #pending = new Set<{ started: number; settled: boolean }>();
  #maxInFlightSeen = 0;
  #unloggedFailures = 0;
  #lastError: unknown;
  #lastLogAt = -Infinity;

  constructor(inner: PushMetricExporter, options: GuardedPushExporterOptions) {
    this.#inner = inner;
    this.#opts = options;
    this.#now = options.now ?? (() => performance.now());
    if (inner.selectAggregationTemporality) {
      this.selectAggregationTemporality = (t: InstrumentType) => inner.selectAggregationTemporality!(t);
    }
    if (inner.selectAggregation) {
      this.selectAggregation = (t: InstrumentType) => inner.selectAggregation!(t);
    }
  }

  selectAggregationTemporality?: (instrumentType: InstrumentType) => AggregationTemporality;
  selectAggregation?: (instrumentType: InstrumentType) => AggregationOption;

  /** Exports pending right now. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** The most exports ever pending at once (never above `maxInFlight`). */
  get maxInFlightSeen(): number {
    return this.#maxInFlightSeen;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.#abandonStale();
    if (this.#pending.size >= this.#opts.maxInFlight) {
      const error = new Error(`export dropped: ${this.#pending.size} earlier exports still in flight`);
      this.#fail(error, undefined);
      resultCallback({ code: ExportResultCode.FAILED, error });
      return;
    }
    const entry = { started: this.#now(), settled: false };
    this.#pending.add(entry);
    this.#maxInFlightSeen = Math.max(this.#maxInFlightSeen, this.#pending.size);
    const done = (result: ExportResult): void => {
      if (entry.settled) return;
      entry.settled = true;
      this.#pending.delete(entry);
      const seconds = (this.#now() - entry.started) / 1000;
      if (result.code === ExportResultCode.SUCCESS) {
        this.#opts.health.recordSuccess(this.#opts.exporter);
        this.#record(seconds, 'success');
      } else {
        this.#fail(result.error, seconds);
      }
      resultCallback(result);
    };
    try {
      this.#inner.export(metrics, done);
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  /** An exporter that never calls back must not hold its slot forever. */
  #abandonStale(): void {
    const now = this.#now();
    for (const entry of this.#pending) {
      if (now - entry.started < this.#opts.abandonAfterMillis) continue;
      entry.settled = true;
      this.#pending.delete(entry);
      this.#fail(new Error(`export abandoned after ${Math.round(now - entry.started)} ms without a result`), (now - entry.started) / 1000);
    }
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush().catch((err: unknown) => this.#fail(err, undefined));
  }

  shutdown(): Promise<void> {
    this.#flushLog();
    return this.#inner.shutdown().catch((err: unknown) => this.#fail(err, undefined));
  }

  #record(seconds: number, outcome: 'success' | 'failure'): void {
    try {
      this.#opts.duration?.()?.record(seconds, { [ATTR.TELEMETRY_EXPORTER]: this.#opts.exporter, [ATTR.TELEMETRY_EXPORT_OUTCOME]: outcome });
    } catch {
      // Telemetry about telemetry must never fail an export.
    }
  }

  #fail(error: unknown, seconds: number | undefined): void {
    this.#opts.health.recordFailure(this.#opts.exporter);
    if (seconds !== undefined) this.#record(seconds, 'failure');
    this.#unloggedFailures++;
    this.#lastError = error;
    if (this.#now() - this.#lastLogAt >= this.#opts.logIntervalMillis) this.#flushLog();
  }

  #flushLog(): void {
    if (this.#unloggedFailures === 0) return;
    const n = this.#unloggedFailures;
    const reason = this.#lastError instanceof Error ? this.#lastError.message : String(this.#lastError);
    this.#unloggedFailures = 0;
    this.#lastLogAt = this.#now();
    try {
      this.#opts.warn(`tierkv: ${n} metric export${n === 1 ? '' : 's'} to ${this.#opts.exporter} failed (last: ${reason}); retrying every interval, counted in tierkv.telemetry.export.failures`);
    } catch {
      // A throwing logger must not break exports.
    }
  }
}
