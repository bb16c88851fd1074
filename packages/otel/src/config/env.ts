import { ConfigError } from '@tierkv/core';
import {
  boolean,
  enumValue,
  fallbackWarning,
  firstSet,
  millis,
  parseKeyValueList,
  port,
  read,
  url,
  type Env,
  type Warn,
} from './env-parse.js';

export { parseKeyValueList } from './env-parse.js';

/** The exporter names `OTEL_METRICS_EXPORTER` and the `exporters` option accept. */
export const EXPORTER_NAMES = ['prometheus', 'otlp', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const TEMPORALITY_PREFERENCES = ['cumulative', 'delta', 'lowmemory'] as const;
export type TemporalityPreference = (typeof TEMPORALITY_PREFERENCES)[number];

export const OTLP_COMPRESSIONS = ['gzip', 'none'] as const;
export type OtlpCompression = (typeof OTLP_COMPRESSIONS)[number];

export const HISTOGRAM_AGGREGATIONS = ['explicit_bucket_histogram', 'base2_exponential_bucket_histogram'] as const;
export type HistogramAggregation = (typeof HISTOGRAM_AGGREGATIONS)[number];

/** A PEM file named by a variable; read when the OTLP exporter is built. */
export interface EnvFile {
  readonly path: string;
  /** The variable it came from, for error messages. */
  readonly source: string;
}

/** What the standard `OTEL_*` variables say; every field is absent when its variable is unset, empty or ignored. */
export interface EnvTelemetryConfig {
  readonly disabled?: boolean;
  readonly exporters?: readonly ExporterName[];
  readonly serviceName?: string;
  readonly resourceAttributes?: Readonly<Record<string, string>>;
  readonly exportIntervalMillis?: number;
  /** 0 means no limit of its own (OTEL_METRIC_EXPORT_TIMEOUT=0). */
  readonly exportTimeoutMillis?: number;
  readonly otlp: {
    /** One OTLP request's deadline (OTEL_EXPORTER_OTLP_METRICS_TIMEOUT over OTEL_EXPORTER_OTLP_TIMEOUT); 0: no limit of its own. */
    readonly timeoutMillis?: number;
    /** The full metrics URL (either variable; the generic endpoint gets `/v1/metrics` appended). */
    readonly endpoint?: string;
    /** Which variable the endpoint came from, for error messages. */
    readonly endpointSource?: string;
    readonly protocol?: OtlpProtocol;
    readonly headers?: Readonly<Record<string, string>>;
    readonly temporality?: TemporalityPreference;
    readonly compression?: OtlpCompression;
    readonly histogramAggregation?: HistogramAggregation;
    /** Trusted CA(s) for the collector's TLS certificate. */
    readonly certificate?: EnvFile;
    /** Client certificate chain and key for mutual TLS. */
    readonly clientCertificate?: EnvFile;
    readonly clientKey?: EnvFile;
  };
  readonly prometheus: {
    readonly host?: string;
    readonly port?: number;
  };
}

/**
 * Parses the comma-separated exporter list; `none` stands alone. Unknown names are warned about
 * and skipped (the SDK spec's fallback); a list with no known name is as if unset (undefined).
 */
export function parseExporterList(name: string, value: string, warn: Warn = (m) => console.warn(m)): ExporterName[] | undefined {
  const listed = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (listed.length === 0) throw new ConfigError(name, `"${value}" names no exporter; use one or more of ${EXPORTER_NAMES.join(', ')}`);
  const names: ExporterName[] = [];
  const unknown: string[] = [];
  for (const s of listed) {
    const v = s.toLowerCase() === 'logging' ? 'console' : s.toLowerCase();
    if ((EXPORTER_NAMES as readonly string[]).includes(v)) names.push(v as ExporterName);
    else unknown.push(s);
  }
  if (unknown.length > 0) {
    const instead = names.length > 0 ? [...new Set(names)].join(',') : 'the default exporters';
    warn(fallbackWarning(name, value, `names unknown exporter(s) ${unknown.join(', ')} (known: ${EXPORTER_NAMES.join(', ')})`, instead));
  }
  if (names.length === 0) return undefined;
  if (names.includes('none') && names.length > 1) {
    throw new ConfigError(name, `"${value}": none cannot be combined with other exporters; use none alone, or list ${EXPORTER_NAMES.filter((n) => n !== 'none').join(', ')}`);
  }
  return [...new Set(names)];
}

function otlpEndpoint(env: Env): { endpoint?: string; endpointSource?: string } {
  const metricsEndpoint = read(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (baseEndpoint !== undefined) url('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint);
  if (metricsEndpoint !== undefined) {
    return { endpoint: url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', metricsEndpoint), endpointSource: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' };
  }
  if (baseEndpoint !== undefined) {
    // The generic endpoint is a base URL; the signal path is appended (OTLP exporter spec).
    return { endpoint: baseEndpoint.replace(/\/+$/, '') + '/v1/metrics', endpointSource: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
  }
  return {};
}

function otlpProtocol(env: Env, warn: Warn): OtlpProtocol | undefined {
  const set = firstSet(env, ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (set === undefined) return undefined;
  if (set.value.toLowerCase() === 'grpc') {
    // A spec value we do not implement: fall back like any unsupported enum value, so a host set up
    // for gRPC elsewhere still starts; collectors take http/protobuf on port 4318.
    warn(fallbackWarning(set.name, set.value, 'is not supported by @tierkv/otel (OTLP over HTTP only; collectors take it on port 4318)', 'http/protobuf'));
    return undefined;
  }
  return enumValue(set.name, set.value, OTLP_PROTOCOLS, 'http/protobuf', warn);
}

function otlpHeaders(env: Env): Record<string, string> | undefined {
  const baseHeaders = read(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  const metricHeaders = read(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  if (baseHeaders === undefined && metricHeaders === undefined) return undefined;
  return {
    ...(baseHeaders !== undefined ? parseKeyValueList('OTEL_EXPORTER_OTLP_HEADERS', baseHeaders) : {}),
    ...(metricHeaders !== undefined ? parseKeyValueList('OTEL_EXPORTER_OTLP_METRICS_HEADERS', metricHeaders) : {}),
  };
}

/** The signal-specific variable, else the generic one, as an enum. */
function otlpEnum<T extends string>(env: Env, suffix: string, allowed: readonly T[], fallback: string, warn: Warn): T | undefined {
  const set = firstSet(env, [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]);
  return set === undefined ? undefined : enumValue(set.name, set.value, allowed, fallback, warn);
}

function otlpFile(env: Env, suffix: string): EnvFile | undefined {
  const set = firstSet(env, [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]);
  return set === undefined ? undefined : { path: set.value, source: set.name };
}

function resourceAttributes(env: Env, warn: Warn): Record<string, string> | undefined {
  const raw = read(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (raw === undefined) return undefined;
  try {
    return parseKeyValueList('OTEL_RESOURCE_ATTRIBUTES', raw);
  } catch (err) {
    // The resource SDK spec: on a malformed value the whole variable is discarded, with an error logged.
    warn(fallbackWarning('OTEL_RESOURCE_ATTRIBUTES', raw, `is malformed (${(err as Error).message.replace(/^OTEL_RESOURCE_ATTRIBUTES: /, '')})`, 'no attributes from it'));
    return undefined;
  }
}

/**
 * Reads the standard OpenTelemetry variables tierkv honours (without sdk-node). Where the SDK spec
 * says to warn and fall back (booleans, numbers, enum values, unknown exporter names, a malformed
 * OTEL_RESOURCE_ATTRIBUTES) it warns once per variable through `warn`, naming the value and what is
 * used instead; malformed URLs, header lists and hosts (which the spec leaves open) are ConfigErrors.
 */
export function readTelemetryEnv(env: Env = process.env, warn: Warn = (m) => console.warn(m)): EnvTelemetryConfig {
  const exportersRaw = read(env, 'OTEL_METRICS_EXPORTER');
  const temporalityRaw = read(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE');
  const histogramRaw = read(env, 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION');
  const promHost = read(env, 'OTEL_EXPORTER_PROMETHEUS_HOST');
  if (promHost !== undefined && /[\s/]/.test(promHost)) {
    throw new ConfigError('OTEL_EXPORTER_PROMETHEUS_HOST', `"${promHost}" is not a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)`);
  }
  const otlpTimeoutVar = read(env, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';

  return {
    disabled: boolean(env, 'OTEL_SDK_DISABLED', warn),
    exporters: exportersRaw === undefined ? undefined : parseExporterList('OTEL_METRICS_EXPORTER', exportersRaw, warn),
    serviceName: read(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes: resourceAttributes(env, warn),
    exportIntervalMillis: millis(env, 'OTEL_METRIC_EXPORT_INTERVAL', 'the default (60000)', warn),
    exportTimeoutMillis: millis(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 'the default (30000, at most the interval)', warn, true),
    otlp: {
      timeoutMillis: millis(env, otlpTimeoutVar, 'the export timeout', warn, true),
      ...otlpEndpoint(env),
      protocol: otlpProtocol(env, warn),
      headers: otlpHeaders(env),
      temporality:
        temporalityRaw === undefined
          ? undefined
          : enumValue('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', temporalityRaw, TEMPORALITY_PREFERENCES, 'cumulative', warn),
      compression: otlpEnum(env, 'COMPRESSION', OTLP_COMPRESSIONS, 'none', warn),
      histogramAggregation:
        histogramRaw === undefined
          ? undefined
          : enumValue('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', histogramRaw, HISTOGRAM_AGGREGATIONS, 'explicit_bucket_histogram', warn),
      certificate: otlpFile(env, 'CERTIFICATE'),
      clientCertificate: otlpFile(env, 'CLIENT_CERTIFICATE'),
      clientKey: otlpFile(env, 'CLIENT_KEY'),
    },
    prometheus: { host: promHost, port: port(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 'the default (9464)', warn) },
  };
}
