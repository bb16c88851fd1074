import { ConfigError } from '@tierkv/core';

/** The exporter names `OTEL_METRICS_EXPORTER` and the `exporters` option accept. */
export const EXPORTER_NAMES = ['prometheus', 'otlp', 'console', 'none'] as const;
export type ExporterName = (typeof EXPORTER_NAMES)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const TEMPORALITY_PREFERENCES = ['cumulative', 'delta', 'lowmemory'] as const;
export type TemporalityPreference = (typeof TEMPORALITY_PREFERENCES)[number];

/** What the standard `OTEL_*` variables say; every field is absent when its variable is unset or empty. */
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
  };
  readonly prometheus: {
    readonly host?: string;
    readonly port?: number;
  };
}

type Env = Readonly<Record<string, string | undefined>>;
type Warn = (message: string) => void;

function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const v = value.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(name, `"${value}" is not allowed; use one of ${allowed.join(', ')}`);
}

/**
 * The SDK spec's boolean: only `true` (any case) is true; anything else is false, and a value other
 * than `false` is warned about rather than refused.
 */
function boolean(env: Env, name: string, warn: Warn): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v !== 'true' && v !== 'false') warn(`warning: ${name}="${value}" is not true or false; read as false`);
  return v === 'true';
}

/** A whole number of milliseconds, > 0 (or ≥ 0 where 0 means no limit). */
function millis(env: Env, name: string, zeroAllowed = false): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || (!zeroAllowed && Number(value) <= 0) || !Number.isSafeInteger(Number(value))) {
    const what = zeroAllowed ? 'a whole number of milliseconds (0: no limit)' : 'a positive whole number of milliseconds (e.g. 60000)';
    throw new ConfigError(name, `"${value}" is not ${what}`);
  }
  return Number(value);
}

function port(env: Env, name: string): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new ConfigError(name, `"${value}" is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)`);
  }
  return n;
}

function url(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL; use http://host:port or https://host:port`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `"${value}" uses ${parsed.protocol}; only http: and https: are supported (OTLP over HTTP)`);
  }
  return value;
}

/**
 * Parses a W3C-baggage-like list `key1=value1,key2=value2` (values percent-encoded), the format of
 * `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`.
 */
export function parseKeyValueList(name: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawPair of value.split(',')) {
    const pair = rawPair.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (eq < 0 || key === '') {
      throw new ConfigError(name, `"${pair}" is not a key=value pair; use key1=value1,key2=value2 (percent-encode commas and equals signs in values)`);
    }
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `"${pair}" has a malformed percent-encoding; encode special characters as %XX`);
    }
  }
  return out;
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
  for (const s of listed) {
    const v = s.toLowerCase() === 'logging' ? 'console' : s.toLowerCase();
    if ((EXPORTER_NAMES as readonly string[]).includes(v)) names.push(v as ExporterName);
    else warn(`warning: ${name} names an unknown exporter "${s}" (known: ${EXPORTER_NAMES.join(', ')}); skipped`);
  }
  if (names.length === 0) return undefined;
  if (names.includes('none') && names.length > 1) {
    throw new ConfigError(name, `"${value}": none cannot be combined with other exporters; use none alone, or list ${EXPORTER_NAMES.filter((n) => n !== 'none').join(', ')}`);
  }
  return [...new Set(names)];
}

/**
 * Reads and validates the standard OpenTelemetry variables tierkv honours (without sdk-node).
 * Where the SDK spec says to warn and fall back (booleans, unknown exporter names, a malformed
 * OTEL_RESOURCE_ATTRIBUTES) it warns through `warn`; other malformed values are ConfigErrors.
 */
export function readTelemetryEnv(env: Env = process.env, warn: Warn = (m) => console.warn(m)): EnvTelemetryConfig {
  const exportersRaw = read(env, 'OTEL_METRICS_EXPORTER');
  const resourceRaw = read(env, 'OTEL_RESOURCE_ATTRIBUTES');

  const metricsEndpoint = read(env, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  let endpoint: string | undefined;
  let endpointSource: string | undefined;
  if (metricsEndpoint !== undefined) {
    endpoint = url('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', metricsEndpoint);
    endpointSource = 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT';
  } else if (baseEndpoint !== undefined) {
    // The generic endpoint is a base URL; the signal path is appended (OTLP exporter spec).
    endpoint = url('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint).replace(/\/+$/, '') + '/v1/metrics';
    endpointSource = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  }
  if (baseEndpoint !== undefined && metricsEndpoint !== undefined) url('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint);

  const protocolVar = read(env, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocolRaw = read(env, protocolVar);
  let protocol: OtlpProtocol | undefined;
  if (protocolRaw !== undefined) {
    if (protocolRaw.toLowerCase() === 'grpc') {
      throw new ConfigError(protocolVar, `"grpc" is not supported by @tierkv/otel; use ${OTLP_PROTOCOLS.join(' or ')} (collectors accept both on port 4318)`);
    }
    protocol = oneOf(protocolVar, protocolRaw, OTLP_PROTOCOLS);
  }

  const baseHeaders = read(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  const metricHeaders = read(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS');
  const headers =
    baseHeaders === undefined && metricHeaders === undefined
      ? undefined
      : {
          ...(baseHeaders !== undefined ? parseKeyValueList('OTEL_EXPORTER_OTLP_HEADERS', baseHeaders) : {}),
          ...(metricHeaders !== undefined ? parseKeyValueList('OTEL_EXPORTER_OTLP_METRICS_HEADERS', metricHeaders) : {}),
        };

  const temporalityRaw = read(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE');
  const promHost = read(env, 'OTEL_EXPORTER_PROMETHEUS_HOST');
  if (promHost !== undefined && /[\s/]/.test(promHost)) {
    throw new ConfigError('OTEL_EXPORTER_PROMETHEUS_HOST', `"${promHost}" is not a host name or IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)`);
  }

  let resourceAttributes: Record<string, string> | undefined;
  if (resourceRaw !== undefined) {
    try {
      resourceAttributes = parseKeyValueList('OTEL_RESOURCE_ATTRIBUTES', resourceRaw);
    } catch (err) {
      // The resource SDK spec: on a malformed value the whole variable is discarded, with an error logged.
      warn(`warning: OTEL_RESOURCE_ATTRIBUTES is discarded: ${(err as Error).message}`);
    }
  }
  const otlpTimeoutVar = read(env, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';

  return {
    disabled: boolean(env, 'OTEL_SDK_DISABLED', warn),
    exporters: exportersRaw === undefined ? undefined : parseExporterList('OTEL_METRICS_EXPORTER', exportersRaw, warn),
    serviceName: read(env, 'OTEL_SERVICE_NAME'),
    resourceAttributes,
    exportIntervalMillis: millis(env, 'OTEL_METRIC_EXPORT_INTERVAL'),
    exportTimeoutMillis: millis(env, 'OTEL_METRIC_EXPORT_TIMEOUT', true),
    otlp: {
      timeoutMillis: millis(env, otlpTimeoutVar, true),
      endpoint,
      endpointSource,
      protocol,
      headers,
      temporality: temporalityRaw === undefined ? undefined : oneOf('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', temporalityRaw, TEMPORALITY_PREFERENCES),
    },
    prometheus: { host: promHost, port: port(env, 'OTEL_EXPORTER_PROMETHEUS_PORT') },
  };
}
