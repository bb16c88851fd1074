import { ConfigError } from '@tierkv/core';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
import { parseKeyValueList } from '../config/env.js';

type Env = Readonly<Record<string, string | undefined>>;
type Warn = (message: string) => void;

/** The exporter names `OTEL_TRACES_EXPORTER` and the `traces.exporters` option accept. */
export const TRACE_EXPORTER_NAMES = ['otlp', 'console', 'none'] as const;
export type TraceExporterName = (typeof TRACE_EXPORTER_NAMES)[number];

/** The samplers of the OTel SDK environment specification (`OTEL_TRACES_SAMPLER`). */
export const SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const TRACE_OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type TraceOtlpProtocol = (typeof TRACE_OTLP_PROTOCOLS)[number];

/** A sampler by name, as in the environment (`arg`: the ratio of the `*traceidratio` samplers). */
export interface SamplerSpec {
  readonly name: SamplerName;
  readonly arg?: number;
}

/** What the `OTEL_TRACES_*` and trace-related `OTEL_EXPORTER_OTLP_*` variables say. */
export interface EnvTraceConfig {
  readonly exporters: TraceExporterName[] | undefined;
  readonly sampler: SamplerSpec | undefined;
  readonly otlp: {
    readonly endpoint: string | undefined;
    readonly protocol: TraceOtlpProtocol | undefined;
    readonly headers: Record<string, string> | undefined;
    readonly timeoutMillis: number | undefined;
  };
}

function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** `OTEL_TRACES_EXPORTER`: a comma list; unknown names are skipped with a warning, `none` stands alone. */
export function parseTraceExporters(name: string, value: string, warn: Warn): TraceExporterName[] {
  const listed = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const out: TraceExporterName[] = [];
  for (const s of listed) {
    if ((TRACE_EXPORTER_NAMES as readonly string[]).includes(s)) {
      if (!out.includes(s as TraceExporterName)) out.push(s as TraceExporterName);
    } else if (s === 'zipkin' || s === 'jaeger') {
      warn(`warning: ${name} names "${s}", which @tierkv/otel does not ship (send OTLP to a collector instead); skipped`);
    } else {
      warn(`warning: ${name} names an unknown exporter "${s}" (known: ${TRACE_EXPORTER_NAMES.join(', ')}); skipped`);
    }
  }
  if (out.includes('none') && out.length > 1) {
    throw new ConfigError(name, `"${value}": none cannot be combined with other exporters; use none alone, or list otlp, console`);
  }
  return out.length === 0 ? ['none'] : out;
}

/**
 * `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`, per the SDK environment specification: an
 * unknown sampler warns and the default (`parentbased_always_on`) applies; for the ratio samplers a
 * missing, non-numeric or out-of-range argument warns and 1.0 applies. Undefined when unset.
 */
export function parseSamplerEnv(samplerValue: string | undefined, argValue: string | undefined, warn: Warn): SamplerSpec | undefined {
  if (samplerValue === undefined) return undefined;
  const name = samplerValue.trim().toLowerCase();
  if (!(SAMPLER_NAMES as readonly string[]).includes(name)) {
    warn(`warning: OTEL_TRACES_SAMPLER="${samplerValue}" is not one of ${SAMPLER_NAMES.join(', ')}; using parentbased_always_on`);
    return { name: 'parentbased_always_on' };
  }
  if (name !== 'traceidratio' && name !== 'parentbased_traceidratio') return { name: name as SamplerName };
  if (argValue === undefined) return { name: name as SamplerName, arg: 1 };
  const arg = Number(argValue.trim());
  if (argValue.trim() === '' || !Number.isFinite(arg) || arg < 0 || arg > 1) {
    warn(`warning: OTEL_TRACES_SAMPLER_ARG="${argValue}" is not a ratio from 0 to 1; using 1.0`);
    return { name: name as SamplerName, arg: 1 };
  }
  return { name: name as SamplerName, arg };
}

/** The SDK sampler for a spec. */
export function buildSampler(spec: SamplerSpec): Sampler {
  const ratio = spec.arg ?? 1;
  switch (spec.name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

function checkUrl(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL; use http://host:port/v1/traces`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `"${value}" uses ${parsed.protocol}; only http: and https: are supported (OTLP over HTTP)`);
  }
  return value;
}

/** Reads the trace variables; malformed URLs, protocols and headers are ConfigErrors. */
export function readTraceEnv(env: Env, warn: Warn): EnvTraceConfig {
  const exportersRaw = read(env, 'OTEL_TRACES_EXPORTER');
  const tracesEndpoint = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  let endpoint: string | undefined;
  // The signal-specific URL is used as is; the base one gets the signal's path appended (the spec).
  if (tracesEndpoint !== undefined) endpoint = checkUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint);
  else if (baseEndpoint !== undefined) endpoint = checkUrl('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint).replace(/\/+$/, '') + '/v1/traces';
  const protocolVar = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocolRaw = read(env, protocolVar);
  let protocol: TraceOtlpProtocol | undefined;
  if (protocolRaw !== undefined) {
    if (protocolRaw === 'grpc') throw new ConfigError(protocolVar, `"grpc" is not supported by @tierkv/otel; use ${TRACE_OTLP_PROTOCOLS.join(' or ')} (collectors accept both on port 4318)`);
    if (!(TRACE_OTLP_PROTOCOLS as readonly string[]).includes(protocolRaw)) throw new ConfigError(protocolVar, `"${protocolRaw}" is not allowed; use one of ${TRACE_OTLP_PROTOCOLS.join(', ')}`);
    protocol = protocolRaw as TraceOtlpProtocol;
  }
  const baseHeaders = read(env, 'OTEL_EXPORTER_OTLP_HEADERS');
  const traceHeaders = read(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS');
  const headers =
    baseHeaders === undefined && traceHeaders === undefined
      ? undefined
      : {
          ...(baseHeaders === undefined ? {} : parseKeyValueList('OTEL_EXPORTER_OTLP_HEADERS', baseHeaders)),
          ...(traceHeaders === undefined ? {} : parseKeyValueList('OTEL_EXPORTER_OTLP_TRACES_HEADERS', traceHeaders)),
        };
  const timeoutVar = read(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const timeoutRaw = read(env, timeoutVar);
  let timeoutMillis: number | undefined;
  if (timeoutRaw !== undefined) {
    const t = Number(timeoutRaw);
    if (!Number.isSafeInteger(t) || t <= 0) throw new ConfigError(timeoutVar, `"${timeoutRaw}" is not a positive whole number of milliseconds`);
    timeoutMillis = t;
  }
  return {
    exporters: exportersRaw === undefined ? undefined : parseTraceExporters('OTEL_TRACES_EXPORTER', exportersRaw, warn),
    sampler: parseSamplerEnv(read(env, 'OTEL_TRACES_SAMPLER'), read(env, 'OTEL_TRACES_SAMPLER_ARG'), warn),
    otlp: { endpoint, protocol, headers, timeoutMillis },
  };
}
