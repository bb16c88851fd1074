import { context, propagation, trace, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ConfigError, debugLogger } from '@tierkv/core';
import { OtlpStreamSpanProcessor } from './otlp-stream-processor.js';
import { buildSampler, readTraceEnv, TRACE_EXPORTER_NAMES, TRACE_OTLP_PROTOCOLS, type SamplerSpec, type TraceExporterName, type TraceOtlpProtocol } from './trace-env.js';

const log = debugLogger('tierkv:otel');

/** Trace options of `startTelemetry` (the `traces` field). Options win over the environment. */
export interface TracesOptions {
  /**
   * Span exporters. @default env OTEL_TRACES_EXPORTER, else `['otlp']` when an OTLP endpoint is
   * configured (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT), else `['none']`:
   * unlike the spec's default (`otlp`), nothing is pushed to a collector nobody configured, and with
   * no exporter no TracerProvider is registered, so tracing costs nothing.
   */
  exporters?: readonly TraceExporterName[];
  otlp?: {
    /** Full URL of the traces endpoint. @default env, else http://localhost:4318/v1/traces */
    endpoint?: string;
    /** @default env OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL, else 'http/protobuf' */
    protocol?: TraceOtlpProtocol;
    /** Extra HTTP headers, merged over the env headers. */
    headers?: Record<string, string>;
    /** One export's deadline. @default env OTEL_EXPORTER_OTLP_TRACES_TIMEOUT / OTEL_EXPORTER_OTLP_TIMEOUT, else 10000 */
    timeoutMillis?: number;
  };
  /** A sampler by name (as in OTEL_TRACES_SAMPLER) or an SDK Sampler. @default env, else parentbased_always_on */
  sampler?: SamplerSpec | Sampler;
  /**
   * Span processors added after the exporters' (e.g. `new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })`
   * in a test or a benchmark). A TracerProvider is registered when there is an exporter or a processor.
   */
  spanProcessors?: readonly SpanProcessor[];
}

/** The tracing part of a started telemetry. */
export interface TracesHandle {
  /** The TracerProvider (the global one too unless `registerGlobal: false` or the host had one). */
  readonly provider: ApiTracerProvider;
  /** Exporter names, in order. */
  readonly exporters: readonly string[];
  forceFlush(): Promise<void>;
  /** Flushes and stops the processors; unregisters what it registered. Idempotent. */
  shutdown(): Promise<void>;
}

function processorFor(name: Exclude<TraceExporterName, 'none'>, otlp: ResolvedOtlp): SpanProcessor {
  if (name === 'console') return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
  const config = { url: otlp.endpoint, headers: otlp.headers, timeoutMillis: otlp.timeoutMillis };
  // http/protobuf: spans are encoded as they end and only the bytes are kept (see
  // otlp-stream-processor.ts); the SDK's batch processor and JSON exporter serve http/json.
  if (otlp.protocol === 'http/protobuf') return new OtlpStreamSpanProcessor({ otlp: config });
  return new BatchSpanProcessor({ exporter: new OtlpJsonTraceExporter(config) });
}

interface ResolvedOtlp {
  readonly endpoint: string;
  readonly protocol: TraceOtlpProtocol;
  readonly headers: Record<string, string>;
  readonly timeoutMillis: number;
}

/** What tracing will run: exporters, OTLP settings, sampler. Throws ConfigError for malformed input. */
export function resolveTracesConfig(
  options: TracesOptions | undefined,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void,
): { exporters: Exclude<TraceExporterName, 'none'>[]; otlp: ResolvedOtlp; sampler: Sampler; samplerName: string; spanProcessors: readonly SpanProcessor[] } {
  const o = options ?? {};
  if (typeof o !== 'object') throw new ConfigError('traces', 'expected an object { exporters?, otlp?, sampler?, spanProcessors? }');
  const e = readTraceEnv(env, warn);
  const endpoint = o.otlp?.endpoint ?? e.otlp.endpoint;
  let exporters: TraceExporterName[];
  if (o.exporters !== undefined) {
    for (const [i, n] of o.exporters.entries()) {
      if (!(TRACE_EXPORTER_NAMES as readonly string[]).includes(n)) throw new ConfigError(`traces.exporters[${i}]`, `"${String(n)}" is not allowed; use one of ${TRACE_EXPORTER_NAMES.join(', ')}`);
    }
    exporters = [...new Set(o.exporters)];
    if (exporters.includes('none') && exporters.length > 1) throw new ConfigError('traces.exporters', 'none cannot be combined with other exporters');
  } else {
    exporters = e.exporters ?? (endpoint !== undefined ? ['otlp'] : ['none']);
  }
  const protocol = o.otlp?.protocol ?? e.otlp.protocol ?? 'http/protobuf';
  if (!(TRACE_OTLP_PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError('traces.otlp.protocol', `"${String(protocol)}" is not allowed; use one of ${TRACE_OTLP_PROTOCOLS.join(', ')}`);
  const timeoutMillis = o.otlp?.timeoutMillis ?? e.otlp.timeoutMillis ?? 10_000;
  if (!Number.isSafeInteger(timeoutMillis) || timeoutMillis <= 0) throw new ConfigError('traces.otlp.timeoutMillis', `expected a positive integer, got ${String(timeoutMillis)}`);
  const s = o.sampler;
  let sampler: Sampler;
  let samplerName: string;
  if (s !== undefined && typeof (s as Sampler).shouldSample === 'function') {
    sampler = s as Sampler;
    samplerName = sampler.toString();
  } else {
    const spec = (s as SamplerSpec | undefined) ?? e.sampler ?? { name: 'parentbased_always_on' };
    sampler = buildSampler(spec);
    samplerName = spec.arg === undefined ? spec.name : `${spec.name}(${spec.arg})`;
  }
  return {
    exporters: exporters.filter((n): n is Exclude<TraceExporterName, 'none'> => n !== 'none'),
    otlp: {
      endpoint: endpoint ?? 'http://localhost:4318/v1/traces',
      protocol,
      headers: { ...e.otlp.headers, ...o.otlp?.headers },
      timeoutMillis,
    },
    sampler,
    samplerName,
    spanProcessors: o.spanProcessors ?? [],
  };
}

/**
 * Creates the TracerProvider with the configured exporters and registers it (plus an
 * AsyncLocalStorage context manager, so spans nest across awaits, and the W3C propagator) unless
 * the host registered its own. Undefined when there is nothing to export to.
 */
export function startTraces(
  options: TracesOptions | undefined,
  settings: { env: Readonly<Record<string, string | undefined>>; warn: (message: string) => void; resource: Resource; registerGlobal: boolean },
): TracesHandle | undefined {
  const config = resolveTracesConfig(options, settings.env, settings.warn);
  const processors = [...config.exporters.map((n) => processorFor(n, config.otlp)), ...config.spanProcessors];
  if (processors.length === 0) return undefined;
  const provider = new TracerProvider({ resource: settings.resource, sampler: config.sampler, spanProcessors: processors });
  let registeredProvider = false;
  let registeredContext: AsyncLocalStorageContextManager | undefined;
  let registeredPropagator = false;
  if (settings.registerGlobal) {
    registeredProvider = trace.setGlobalTracerProvider(provider);
    if (!registeredProvider) {
      settings.warn('warning: a global TracerProvider is already registered (the host runs OpenTelemetry?): tierkv spans go to it, and the traces exporters of startTelemetry are not started');
      void provider.shutdown().catch(() => undefined);
      return undefined;
    }
    const manager = new AsyncLocalStorageContextManager();
    if (context.setGlobalContextManager(manager.enable())) registeredContext = manager;
    else manager.disable();
    registeredPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  log('traces started: exporters %o, sampler %s', config.exporters, config.samplerName);
  let stopped: Promise<void> | undefined;
  return {
    provider,
    exporters: config.exporters,
    async forceFlush() {
      try {
        await provider.forceFlush();
      } catch (err) {
        log('traces forceFlush: %o', err);
      }
    },
    shutdown() {
      stopped ??= (async () => {
        try {
          // Flushes every batch processor (a final export) before stopping it.
          await provider.shutdown();
        } catch (err) {
          log('traces shutdown: %o', err);
        }
        if (registeredProvider) trace.disable();
        if (registeredContext) {
          context.disable();
          registeredContext.disable();
        }
        if (registeredPropagator) propagation.disable();
      })();
      return stopped;
    },
  };
}
