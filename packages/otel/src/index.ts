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
export { startTraces, resolveTracesConfig } from './traces/start-traces.js';
export type { TracesOptions, TracesHandle } from './traces/start-traces.js';
export { readTraceEnv, parseSamplerEnv, parseTraceExporters, buildSampler, TRACE_EXPORTER_NAMES, SAMPLER_NAMES, TRACE_OTLP_PROTOCOLS } from './traces/trace-env.js';
export type { EnvTraceConfig, SamplerSpec, SamplerName, TraceExporterName, TraceOtlpProtocol } from './traces/trace-env.js';
// The SDK pieces a host needs for `traces.spanProcessors` (tests, benchmarks), so it needs no SDK dependency of its own.
export { InMemorySpanExporter, SimpleSpanProcessor, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
export { OtlpStreamSpanProcessor } from './traces/otlp-stream-processor.js';
export type { OtlpStreamSpanProcessorOptions } from './traces/otlp-stream-processor.js';
export type { ReadableSpan, SpanProcessor, SpanExporter, Sampler } from '@opentelemetry/sdk-trace';
// The context manager startTelemetry registers, for hosts (and benchmarks) that register a provider themselves.
export { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
