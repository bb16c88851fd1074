import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MetricReader, PushMetricExporter, ViewOptions } from '@opentelemetry/sdk-metrics';
import { ConfigError, METRIC_CATALOG } from '@tierkv/core';
import { positiveInt } from './positive-int.js';
import {
  EXPORTER_NAMES,
  HISTOGRAM_AGGREGATIONS,
  OTLP_COMPRESSIONS,
  OTLP_PROTOCOLS,
  TEMPORALITY_PREFERENCES,
  readTelemetryEnv,
  type EnvFile,
  type ExporterName,
  type HistogramAggregation,
  type OtlpCompression,
  type OtlpProtocol,
  type TemporalityPreference,
} from './env.js';

/** One entry of `exporters`: a built-in exporter by name, or the user's own reader or push exporter. */
export type ExporterSpec = ExporterName | MetricReader | PushMetricExporter;

export interface PrometheusOptions {
  /** Interface to bind. @default '127.0.0.1' (env OTEL_EXPORTER_PROMETHEUS_HOST) */
  host?: string;
  /** Port to bind; 0 picks a free one (see `handle.prometheusUrl`). @default 9464 (env OTEL_EXPORTER_PROMETHEUS_PORT) */
  port?: number;
  /** Path of the scrape endpoint. @default '/metrics' */
  endpoint?: string;
  /** Serve only through `handle.scrape()` / `handle.metricsHandler` (the host's own HTTP server). @default false */
  preventServerStart?: boolean;
  /** Leave out the `otel_scope_name`/`otel_scope_version` labels. @default false */
  withoutScopeInfo?: boolean;
  /** Leave out the `target_info` series (the resource). @default false */
  withoutTargetInfo?: boolean;
}

export interface OtlpOptions {
  /** Full URL of the metrics endpoint. @default 'http://localhost:4318/v1/metrics' (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT) */
  endpoint?: string;
  /** @default 'http/protobuf' (env OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL) */
  protocol?: OtlpProtocol;
  /** Extra HTTP headers (e.g. an API key). Merged over the env headers. */
  headers?: Record<string, string>;
  /** @default 'cumulative' (env OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE) */
  temporality?: TemporalityPreference;
  /** One OTLP request's deadline, at most the export timeout. @default the export timeout (env OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT; 0 there: no limit of its own) */
  timeoutMillis?: number;
  /** Exports allowed in flight at once; further exports fail fast (and are counted) instead of queueing. @default 2 */
  maxInFlight?: number;
  /** @default 'none' (env OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION) */
  compression?: OtlpCompression;
  /**
   * How histograms are sent over OTLP; Prometheus always gets explicit buckets (see docs/observability.md).
   * @default 'explicit_bucket_histogram' (env OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION)
   */
  histogramAggregation?: HistogramAggregation;
  /** PEM file of the CA(s) to trust for the collector. @default env OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE */
  certificateFile?: string;
  /** PEM client certificate chain for mutual TLS. @default env OTEL_EXPORTER_OTLP_(METRICS_)CLIENT_CERTIFICATE */
  clientCertificateFile?: string;
  /** PEM client private key for mutual TLS. @default env OTEL_EXPORTER_OTLP_(METRICS_)CLIENT_KEY */
  clientKeyFile?: string;
}

export interface ViewsConfig {
  /** Max attribute sets per metric; beyond it the SDK folds new ones into an overflow series. @default 1000 */
  cardinalityLimit?: number;
  /** Catalog metric name → exported name. */
  rename?: Record<string, string>;
  /** Catalog metric names not to export at all. */
  drop?: readonly string[];
  /** Catalog histogram name → bucket boundaries (ascending; seconds for unit `s`). Overrides the catalog's advice. */
  histogramBoundaries?: Record<string, readonly number[]>;
  /** Extra SDK views, for the host's own instruments on this provider. */
  extra?: readonly ViewOptions[];
}

/** Options of `startTelemetry`. Every field wins over its environment variable. */
export interface StartTelemetryOptions {
  /**
   * Exporters to attach; several at once is fine. @default from OTEL_METRICS_EXPORTER, else
   * `['prometheus']` plus `'otlp'` when an OTLP endpoint is configured.
   */
  exporters?: readonly ExporterSpec[];
  /** `service.name` of the resource. @default env OTEL_SERVICE_NAME, else the SDK's `unknown_service:<process>` (with a warning) */
  serviceName?: string;
  /** `service.instance.id`. @default a random UUID */
  serviceInstanceId?: string;
  /** Extra resource attributes, merged over OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes?: Attributes;
  /** A resource merged over the SDK default (then the attributes above are merged over it). */
  resource?: Resource;
  /** Interval of periodic (push) exporters. @default 60000 (env OTEL_METRIC_EXPORT_INTERVAL) */
  exportIntervalMillis?: number;
  /** Deadline of one push export. @default 30000, at most the interval (env OTEL_METRIC_EXPORT_TIMEOUT) */
  exportTimeoutMillis?: number;
  prometheus?: PrometheusOptions;
  otlp?: OtlpOptions;
  views?: ViewsConfig;
  /** Start nothing and register nothing. @default env OTEL_SDK_DISABLED, else false */
  disabled?: boolean;
  /** Register the provider as the process-wide global (what tierkv modules follow by default). @default true */
  registerGlobal?: boolean;
  /** At most one failure log line per exporter per this many ms. @default max(exportIntervalMillis, 60000) */
  failureLogIntervalMillis?: number;
  /** Where warnings go (unknown service name, export failures). @default console.warn */
  warn?: (message: string) => void;
  /** Environment to read the `OTEL_*` variables from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedPrometheusConfig {
  readonly host: string;
  readonly port: number;
  readonly endpoint: string;
  readonly preventServerStart: boolean;
  readonly withoutScopeInfo: boolean;
  readonly withoutTargetInfo: boolean;
}

export interface ResolvedOtlpConfig {
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly temporality: TemporalityPreference;
  /** One OTLP request's deadline, at most the export timeout. */
  readonly timeoutMillis: number;
  readonly maxInFlight: number;
  readonly compression: OtlpCompression;
  readonly histogramAggregation: HistogramAggregation;
  /** PEM files for TLS, each with the option or variable it came from (read when the exporter is built). */
  readonly certificate: EnvFile | undefined;
  readonly clientCertificate: EnvFile | undefined;
  readonly clientKey: EnvFile | undefined;
}

export interface ResolvedViewsConfig {
  readonly cardinalityLimit: number;
  readonly rename: Readonly<Record<string, string>>;
  readonly drop: readonly string[];
  readonly histogramBoundaries: Readonly<Record<string, readonly number[]>>;
  readonly extra: readonly ViewOptions[];
  /**
   * Histograms without a rename, drop or boundaries get no view, so each reader picks their
   * aggregation (OTLP exponential, Prometheus explicit buckets). Set when OTLP is attached with
   * base2_exponential_bucket_histogram: a view would impose one aggregation on every reader.
   */
  readonly histogramsPerReader: boolean;
}

/** Everything `startTelemetry` needs, with options, environment and defaults merged and validated. */
export interface ResolvedTelemetryConfig {
  readonly disabled: boolean;
  readonly exporters: readonly ExporterSpec[];
  readonly serviceName: string | undefined;
  readonly serviceInstanceId: string | undefined;
  readonly resourceAttributes: Attributes;
  readonly resource: Resource | undefined;
  readonly exportIntervalMillis: number;
  readonly exportTimeoutMillis: number;
  readonly prometheus: ResolvedPrometheusConfig;
  readonly otlp: ResolvedOtlpConfig;
  readonly views: ResolvedViewsConfig;
  readonly registerGlobal: boolean;
  readonly failureLogIntervalMillis: number;
  readonly warn: (message: string) => void;
}

export const DEFAULT_TELEMETRY_OPTIONS = Object.freeze({
  exportIntervalMillis: 60_000,
  exportTimeoutMillis: 30_000,
  prometheus: Object.freeze({
    // Loopback unless told otherwise: metrics can reveal workload shape.
    host: '127.0.0.1',
    port: 9464,
    endpoint: '/metrics',
    preventServerStart: false,
    withoutScopeInfo: false,
    withoutTargetInfo: false,
  }),
  otlp: Object.freeze({
    endpoint: 'http://localhost:4318/v1/metrics',
    protocol: 'http/protobuf' as OtlpProtocol,
    temporality: 'cumulative' as TemporalityPreference,
    maxInFlight: 2,
    compression: 'none' as OtlpCompression,
    histogramAggregation: 'explicit_bucket_histogram' as HistogramAggregation,
  }),
  cardinalityLimit: 1000,
});

const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_.\-/]{0,254}$/;
const CATALOG_NAMES = new Set(METRIC_CATALOG.map((d) => d.name));

function catalogName(field: string, name: string): string {
  if (!CATALOG_NAMES.has(name)) throw new ConfigError(field, `${name} is not a tierkv metric; see docs/metrics.md for the names`);
  return name;
}

function resolveViews(views: ViewsConfig = {}, histogramsPerReader = false): ResolvedViewsConfig {
  const rename: Record<string, string> = {};
  for (const [from, to] of Object.entries(views.rename ?? {})) {
    catalogName('views.rename', from);
    if (!INSTRUMENT_NAME.test(to)) throw new ConfigError('views.rename', `"${to}" is not a valid metric name (letters, digits, _ . - /; starting with a letter)`);
    rename[from] = to;
  }
  const drop = (views.drop ?? []).map((n) => catalogName('views.drop', n));
  const histogramBoundaries: Record<string, readonly number[]> = {};
  for (const [name, bounds] of Object.entries(views.histogramBoundaries ?? {})) {
    const def = METRIC_CATALOG.find((d) => d.name === catalogName('views.histogramBoundaries', name));
    if (def?.kind !== 'histogram') throw new ConfigError('views.histogramBoundaries', `${name} is not a histogram`);
    const ok = bounds.length > 0 && bounds.every((b, i) => Number.isFinite(b) && (i === 0 || b > bounds[i - 1]!));
    if (!ok) throw new ConfigError('views.histogramBoundaries', `${name}: boundaries must be finite and strictly ascending`);
    histogramBoundaries[name] = [...bounds];
  }
  return {
    cardinalityLimit: positiveInt('views.cardinalityLimit', views.cardinalityLimit) ?? DEFAULT_TELEMETRY_OPTIONS.cardinalityLimit,
    rename,
    drop,
    histogramBoundaries,
    extra: [...(views.extra ?? [])],
    histogramsPerReader,
  };
}

/** An option restricted to a set of values (options are code, so a wrong one is a ConfigError). */
function oneOfOption<T extends string>(field: string, value: T | undefined, allowed: readonly T[]): T | undefined {
  if (value !== undefined && !allowed.includes(value)) throw new ConfigError(field, `"${String(value)}" is not allowed; use one of ${allowed.join(', ')}`);
  return value;
}

function fileOption(field: string, path: string | undefined): EnvFile | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== 'string' || path.trim() === '') throw new ConfigError(field, 'must be the path of a PEM file');
  return { path, source: field };
}

function resolvePort(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(field, `${String(value)} is not a TCP port (0 to 65535)`);
  return value;
}

function checkEndpoint(field: string, value: string): string {
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new ConfigError(field, `"${value}" is not an http(s) URL; use e.g. http://localhost:4318/v1/metrics`);
}

/**
 * Merges options over the `OTEL_*` environment over the defaults, and validates the result.
 * Throws ConfigError naming the option or variable that is wrong.
 */
export function resolveTelemetryConfig(options: StartTelemetryOptions = {}): ResolvedTelemetryConfig {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const env = readTelemetryEnv(options.env ?? process.env, warn);

  const otlpEndpoint =
    options.otlp?.endpoint !== undefined ? checkEndpoint('otlp.endpoint', options.otlp.endpoint) : env.otlp.endpoint;
  let exporters: readonly ExporterSpec[];
  if (options.exporters !== undefined) {
    for (const e of options.exporters) {
      if (typeof e === 'string' && !(EXPORTER_NAMES as readonly string[]).includes(e)) {
        throw new ConfigError('exporters', `"${e}" is not a built-in exporter; use ${EXPORTER_NAMES.join(', ')}, a MetricReader or a PushMetricExporter`);
      }
    }
    exporters = options.exporters;
  } else if (env.exporters !== undefined) {
    exporters = env.exporters;
  } else {
    exporters = otlpEndpoint !== undefined ? ['prometheus', 'otlp'] : ['prometheus'];
  }
  // A name listed twice would start that exporter twice (two servers on one port).
  exporters = exporters.filter((e, i) => e !== 'none' && (typeof e !== 'string' || exporters.indexOf(e) === i));

  const intervalFromUser = positiveInt('exportIntervalMillis', options.exportIntervalMillis) ?? env.exportIntervalMillis;
  const exportIntervalMillis = intervalFromUser ?? DEFAULT_TELEMETRY_OPTIONS.exportIntervalMillis;
  // OTEL_METRIC_EXPORT_TIMEOUT=0 is "no limit": the export interval is then the only bound (an
  // export must end before the next starts, and the SDK's reader needs a positive timeout).
  const envTimeout = env.exportTimeoutMillis === 0 ? exportIntervalMillis : env.exportTimeoutMillis;
  const timeoutFromUser = positiveInt('exportTimeoutMillis', options.exportTimeoutMillis) ?? envTimeout;
  if (timeoutFromUser !== undefined && timeoutFromUser > exportIntervalMillis) {
    const t = options.exportTimeoutMillis !== undefined ? 'exportTimeoutMillis' : 'OTEL_METRIC_EXPORT_TIMEOUT';
    const i = options.exportIntervalMillis !== undefined ? 'exportIntervalMillis' : 'OTEL_METRIC_EXPORT_INTERVAL';
    throw new ConfigError(t, `${timeoutFromUser} ms is longer than the export interval (${i} = ${exportIntervalMillis} ms); an export must end before the next starts`);
  }
  // The default timeout shrinks to fit a short interval rather than failing.
  const exportTimeoutMillis = timeoutFromUser ?? Math.min(DEFAULT_TELEMETRY_OPTIONS.exportTimeoutMillis, exportIntervalMillis);

  const protocol = options.otlp?.protocol ?? env.otlp.protocol ?? DEFAULT_TELEMETRY_OPTIONS.otlp.protocol;
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new ConfigError('otlp.protocol', `"${protocol}" is not supported; use ${OTLP_PROTOCOLS.join(' or ')}`);
  }
  const temporality = options.otlp?.temporality ?? env.otlp.temporality ?? DEFAULT_TELEMETRY_OPTIONS.otlp.temporality;
  if (!(TEMPORALITY_PREFERENCES as readonly string[]).includes(temporality)) {
    throw new ConfigError('otlp.temporality', `"${temporality}" is not allowed; use one of ${TEMPORALITY_PREFERENCES.join(', ')}`);
  }
  const compression = oneOfOption('otlp.compression', options.otlp?.compression, OTLP_COMPRESSIONS) ?? env.otlp.compression ?? DEFAULT_TELEMETRY_OPTIONS.otlp.compression;
  const histogramAggregation =
    oneOfOption('otlp.histogramAggregation', options.otlp?.histogramAggregation, HISTOGRAM_AGGREGATIONS) ??
    env.otlp.histogramAggregation ??
    DEFAULT_TELEMETRY_OPTIONS.otlp.histogramAggregation;
  const histogramsPerReader = histogramAggregation === 'base2_exponential_bucket_histogram' && exporters.includes('otlp');
  const endpoint = options.prometheus?.endpoint ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.endpoint;
  if (!endpoint.startsWith('/')) throw new ConfigError('prometheus.endpoint', `"${endpoint}" must be a path starting with /`);

  return {
    disabled: options.disabled ?? env.disabled ?? false,
    exporters,
    serviceName: options.serviceName ?? env.serviceName,
    serviceInstanceId: options.serviceInstanceId,
    resourceAttributes: { ...env.resourceAttributes, ...options.resourceAttributes },
    resource: options.resource,
    exportIntervalMillis,
    exportTimeoutMillis,
    prometheus: {
      host: options.prometheus?.host ?? env.prometheus.host ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.host,
      port: resolvePort('prometheus.port', options.prometheus?.port) ?? env.prometheus.port ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.port,
      endpoint,
      preventServerStart: options.prometheus?.preventServerStart ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.preventServerStart,
      withoutScopeInfo: options.prometheus?.withoutScopeInfo ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.withoutScopeInfo,
      withoutTargetInfo: options.prometheus?.withoutTargetInfo ?? DEFAULT_TELEMETRY_OPTIONS.prometheus.withoutTargetInfo,
    },
    otlp: {
      endpoint: otlpEndpoint ?? DEFAULT_TELEMETRY_OPTIONS.otlp.endpoint,
      protocol,
      headers: { ...env.otlp.headers, ...options.otlp?.headers },
      temporality,
      timeoutMillis: resolveOtlpTimeout(options.otlp?.timeoutMillis, env.otlp.timeoutMillis, exportTimeoutMillis),
      maxInFlight: positiveInt('otlp.maxInFlight', options.otlp?.maxInFlight) ?? DEFAULT_TELEMETRY_OPTIONS.otlp.maxInFlight,
      compression,
      histogramAggregation,
      certificate: fileOption('otlp.certificateFile', options.otlp?.certificateFile) ?? env.otlp.certificate,
      clientCertificate: fileOption('otlp.clientCertificateFile', options.otlp?.clientCertificateFile) ?? env.otlp.clientCertificate,
      clientKey: fileOption('otlp.clientKeyFile', options.otlp?.clientKeyFile) ?? env.otlp.clientKey,
    },
    views: resolveViews(options.views, histogramsPerReader),
    registerGlobal: options.registerGlobal ?? true,
    failureLogIntervalMillis:
      positiveInt('failureLogIntervalMillis', options.failureLogIntervalMillis) ?? Math.max(exportIntervalMillis, 60_000),
    warn,
  };
}

/** The OTLP request deadline: the option, else the OTLP timeout variables (0: no limit of their own), capped by the export timeout. */
function resolveOtlpTimeout(fromOption: number | undefined, fromEnv: number | undefined, exportTimeoutMillis: number): number {
  const own = positiveInt('otlp.timeoutMillis', fromOption) ?? (fromEnv === 0 ? undefined : fromEnv);
  return own === undefined ? exportTimeoutMillis : Math.min(own, exportTimeoutMillis);
}
