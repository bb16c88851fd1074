import { PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { HealthExporter } from '../health/export-health.js';
import type { ExporterContext, ExporterInstance } from './exporter-plugin.js';
import { GuardedPushExporter } from './guarded-push-exporter.js';

/** A push exporter behind a guard, driven by a periodic reader with the configured interval and timeout. */
export function periodicExporter(
  name: string,
  healthName: HealthExporter,
  exporter: PushMetricExporter,
  context: ExporterContext,
  maxInFlight: number,
): ExporterInstance {
  const { config } = context;
  const guard = new GuardedPushExporter(exporter, {
    exporter: healthName,
    health: context.health,
    maxInFlight,
    abandonAfterMillis: 2 * config.exportTimeoutMillis,
    logIntervalMillis: config.failureLogIntervalMillis,
    warn: config.warn,
    duration: context.duration,
  });
  const reader = new PeriodicExportingMetricReader({
    exporter: guard,
    exportIntervalMillis: config.exportIntervalMillis,
    exportTimeoutMillis: config.exportTimeoutMillis,
    // Histograms left without a view (views.histogramsPerReader) get the views' limit here.
    ...(config.views.histogramsPerReader ? { cardinalityLimits: { histogram: config.views.cardinalityLimit } } : {}),
  });
  return { name, reader, guard, healthName };
}
