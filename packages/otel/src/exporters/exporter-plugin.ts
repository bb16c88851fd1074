import type { Histogram } from '@opentelemetry/api';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { ResolvedTelemetryConfig } from '../config/telemetry-config.js';
import type { ExportHealth, HealthExporter } from '../health/export-health.js';
import type { GuardedPushExporter } from './guarded-push-exporter.js';

/** A Prometheus exposition: what `handle.scrape()` returns and `/metrics` serves. */
export interface ScrapeResult {
  readonly contentType: string;
  readonly body: string;
}

/** What every exporter plugin is given. */
export interface ExporterContext {
  readonly config: ResolvedTelemetryConfig;
  readonly health: ExportHealth;
  /** The export-duration histogram, once the provider exists. */
  readonly duration: () => Histogram | undefined;
}

/** One attached exporter: the reader handed to the MeterProvider plus what it owns besides. */
export interface ExporterInstance {
  /** `prometheus`, `otlp`, `console`, `custom-reader`, `custom-push`. */
  readonly name: string;
  readonly reader: IMetricReader;
  /** Binds what the exporter needs (the Prometheus port); rejects with a ConfigError when it cannot. */
  start?(): Promise<void>;
  /** Releases what `start` took, after the provider has shut down. */
  close?(): Promise<void>;
  /** Pull exporters: the current exposition. */
  scrape?(): Promise<ScrapeResult>;
  /** Where the exporter listens, if it does. */
  readonly url?: string | undefined;
  /** Push exporters: the guard counting and bounding their exports. */
  readonly guard?: GuardedPushExporter;
  readonly healthName?: HealthExporter;
}

/** A built-in exporter, chosen by name in `exporters` or `OTEL_METRICS_EXPORTER`. */
export interface ExporterPlugin {
  readonly name: string;
  create(context: ExporterContext): ExporterInstance | undefined;
}
