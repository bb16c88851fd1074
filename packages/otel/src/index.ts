export { startTelemetry } from './start-telemetry.js';
export type { TelemetryHandle, ExportStatus } from './start-telemetry.js';
export { installShutdownHooks } from './shutdown-hooks.js';
export type { ShutdownHookOptions } from './shutdown-hooks.js';
export { resolveTelemetryConfig, DEFAULT_TELEMETRY_OPTIONS } from './config/telemetry-config.js';
export type {
  StartTelemetryOptions,
  ExporterSpec,
  PrometheusOptions,
  OtlpOptions,
  ViewsConfig,
  ResolvedTelemetryConfig,
  ResolvedPrometheusConfig,
  ResolvedOtlpConfig,
  ResolvedViewsConfig,
} from './config/telemetry-config.js';
export { readTelemetryEnv, EXPORTER_NAMES, OTLP_PROTOCOLS, TEMPORALITY_PREFERENCES } from './config/env.js';
export type { EnvTelemetryConfig, ExporterName, OtlpProtocol, TemporalityPreference } from './config/env.js';
export { OTLP_COMPRESSIONS, HISTOGRAM_AGGREGATIONS } from './config/env.js';
export type { OtlpCompression, HistogramAggregation, EnvFile } from './config/env.js';
export { PROMETHEUS_CONTENT_TYPE } from './exporters/prometheus.js';
export type { ScrapeResult } from './exporters/exporter-plugin.js';
export type { HealthExporter } from './health/export-health.js';
