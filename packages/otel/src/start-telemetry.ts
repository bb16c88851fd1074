import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNoopMeter, metrics, type Histogram, type MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError, debugLogger, refreshTelemetryBindings, warnOnApiVersionConflict, type MeterBinding } from '@tierkv/core';
import { resolveTelemetryConfig, type ResolvedTelemetryConfig, type StartTelemetryOptions } from './config/telemetry-config.js';
import type { ExporterInstance, ScrapeResult } from './exporters/exporter-plugin.js';
import { createExporter } from './exporters/exporter-registry.js';
import { PROMETHEUS_CONTENT_TYPE, serveScrape } from './exporters/prometheus.js';
import { ExportHealth, type HealthExporter } from './health/export-health.js';
import { createExportHealthMetrics, type ExportHealthInstruments } from './health/export-health-metrics.js';
import { buildResource } from './resource.js';
import { buildViews } from './views.js';
import { startTraces, type TracesHandle, type TracesOptions } from './traces/start-traces.js';

const log = debugLogger('tierkv:otel');

/** The state of one push exporter, for health checks and status pages. */
export interface ExportStatus {
  readonly exporter: HealthExporter;
  readonly successes: number;
  readonly failures: number;
  /** Exports pending now; never above the exporter's `maxInFlight`. */
  readonly inFlight: number;
  readonly maxInFlightSeen: number;
}

/** What `startTelemetry` returns. */
export interface TelemetryHandle {
  /** The provider every tierkv module exports through (also the global one unless `registerGlobal: false`). */
  readonly meterProvider: ApiMeterProvider;
  readonly config: ResolvedTelemetryConfig;
  /** Names of the attached exporters, in order. */
  readonly exporters: readonly string[];
  /** The Prometheus endpoint's URL when it listens (the real port when 0 was asked for). */
  readonly prometheusUrl: string | undefined;
  /** The Prometheus exposition now, for serving on the host's own HTTP server. Needs the `prometheus` exporter. */
  scrape(): Promise<ScrapeResult>;
  /** A node:http handler answering any request with `scrape()`. */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Exports now on every push exporter; failures are counted and logged, never thrown. */
  forceFlush(): Promise<void>;
  /** Final export, then stops every exporter and unregisters the global provider. Idempotent. */
  shutdown(): Promise<void>;
  exportStatus(): ExportStatus[];
  /** The TracerProvider when tracing runs (a trace exporter or span processor is configured), else undefined. */
  readonly tracerProvider: TracesHandle['provider'] | undefined;
  /** Names of the trace exporters, in order (empty when tracing is off). */
  readonly traceExporters: readonly string[];
}

function noScrape(reason: string): () => Promise<ScrapeResult> {
  return () => Promise.reject(new ConfigError('exporters', reason));
}

function disabledHandle(config: ResolvedTelemetryConfig): TelemetryHandle {
  const body = '# tierkv telemetry is disabled (OTEL_SDK_DISABLED or the disabled option)\n';
  const scrape = () => Promise.resolve({ contentType: PROMETHEUS_CONTENT_TYPE, body });
  return {
    meterProvider: { getMeter: () => createNoopMeter() },
    config,
    exporters: [],
    prometheusUrl: undefined,
    scrape,
    metricsHandler: (req, res) => serveScrape(scrape, req, res),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
    exportStatus: () => [],
    tracerProvider: undefined,
    traceExporters: [],
  };
}

async function closeAll(instances: readonly ExporterInstance[]): Promise<void> {
  await Promise.allSettled(instances.map((i) => i.close?.()));
}

/**
 * Creates the one process-wide MeterProvider with the configured exporters, registers it as the
 * global provider, and makes every tierkv module (including ones created earlier) export through
 * it at once. Options win over the `OTEL_*` environment. Rejects with a ConfigError for a
 * malformed option or variable, a Prometheus port in use, or an already registered global provider.
 */
export async function startTelemetry(options: StartTelemetryOptions & { traces?: TracesOptions } = {}): Promise<TelemetryHandle> {
  const { traces: tracesOptions, ...metricsOptions } = options;
  const config = resolveTelemetryConfig(metricsOptions);
  if (config.disabled) return disabledHandle(config);
  // Against the API copy this package imports: the one whose global we register below.
  const apiConflict = warnOnApiVersionConflict(config.warn, import.meta.url);

  const health = new ExportHealth();
  let healthBinding: MeterBinding<ExportHealthInstruments> | undefined;
  const duration = (): Histogram | undefined => healthBinding?.instruments.exportDuration;
  const context = { config, health, duration };

  const instances: ExporterInstance[] = [];
  try {
    for (const spec of config.exporters) {
      const instance = createExporter(spec, context);
      if (instance) instances.push(instance);
    }
    for (const instance of instances) await instance.start?.();
  } catch (err) {
    await closeAll(instances);
    throw err;
  }

  const provider = new MeterProvider({
    resource: buildResource(config),
    views: buildViews(config.views),
    readers: instances.map((i) => i.reader),
  });
  if (config.registerGlobal && !metrics.setGlobalMeterProvider(provider)) {
    await provider.shutdown().catch(() => undefined);
    await closeAll(instances);
    if (apiConflict) {
      throw new ConfigError(
        'registerGlobal',
        `@opentelemetry/api ${apiConflict.registered} registered the process-wide API before tierkv's ${apiConflict.imported}, so tierkv cannot register its provider; load one copy (npm dedupe), or pass registerGlobal: false and inject handle.meterProvider into the modules`,
      );
    }
    throw new ConfigError(
      'registerGlobal',
      'a global MeterProvider is already registered (the host runs OpenTelemetry?): tierkv modules already export through it, so skip startTelemetry, or pass registerGlobal: false and inject handle.meterProvider into the modules',
    );
  }
  let traces: TracesHandle | undefined;
  try {
    traces = startTraces(tracesOptions, { env: options.env ?? process.env, warn: config.warn, resource: buildResource(config), registerGlobal: config.registerGlobal });
  } catch (err) {
    if (config.registerGlobal && metrics.getMeterProvider() === provider) metrics.disable();
    await provider.shutdown().catch(() => undefined);
    await closeAll(instances);
    throw err;
  }
  refreshTelemetryBindings();
  healthBinding = createExportHealthMetrics(health, provider);
  log('telemetry started: exporters %o', instances.map((i) => i.name));

  const pull = instances.find((i) => i.scrape);
  const scrape = pull?.scrape ? () => pull.scrape!() : noScrape("scrape() needs the 'prometheus' exporter; add it to exporters (with preventServerStart to serve only on your own server)");
  let shutdownPromise: Promise<void> | undefined;

  const shutdown = async (): Promise<void> => {
    try {
      // The provider's shutdown runs each periodic reader's final export; traces flush alongside.
      await Promise.all([provider.shutdown(), traces?.shutdown()]);
    } catch (err) {
      log('shutdown: %o', err);
    }
    healthBinding?.close();
    if (metrics.getMeterProvider() === provider) {
      metrics.disable();
      refreshTelemetryBindings();
    }
    await closeAll(instances);
    log('telemetry stopped');
  };

  return {
    meterProvider: provider,
    config,
    exporters: instances.map((i) => i.name),
    get prometheusUrl() {
      return pull?.url;
    },
    scrape,
    metricsHandler: (req, res) => serveScrape(scrape, req, res),
    async forceFlush() {
      try {
        await Promise.all([provider.forceFlush(), traces?.forceFlush()]);
      } catch (err) {
        // Already counted in tierkv.telemetry.export.failures and logged by the guard.
        log('forceFlush: %o', err);
      }
    },
    shutdown() {
      shutdownPromise ??= shutdown();
      return shutdownPromise;
    },
    tracerProvider: traces?.provider,
    traceExporters: traces?.exporters ?? [],
    exportStatus() {
      return instances.flatMap((i) =>
        i.guard && i.healthName
          ? [{
              exporter: i.healthName,
              successes: health.successes(i.healthName),
              failures: health.failures(i.healthName),
              inFlight: i.guard.inFlight,
              maxInFlightSeen: i.guard.maxInFlightSeen,
            }]
          : [],
      );
    },
  };
}
