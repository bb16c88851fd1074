import { MetricReader, type IMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '@tierkv/core';
import type { ExporterSpec } from '../config/telemetry-config.js';
import type { ExporterContext, ExporterInstance, ExporterPlugin } from './exporter-plugin.js';
import { consolePlugin } from './console.js';
import { nonePlugin } from './none.js';
import { otlpPlugin } from './otlp.js';
import { prometheusPlugin } from './prometheus.js';
import { periodicExporter } from './periodic-reader.js';

const BUILT_IN: ReadonlyMap<string, ExporterPlugin> = new Map(
  [prometheusPlugin, otlpPlugin, consolePlugin, nonePlugin].map((p) => [p.name, p]),
);

function isReader(spec: object): spec is IMetricReader {
  // Duck-typed too, so a reader built against another copy of sdk-metrics is accepted.
  return spec instanceof MetricReader || (typeof (spec as IMetricReader).collect === 'function' && typeof (spec as IMetricReader).setMetricProducer === 'function');
}

function isPushExporter(spec: object): spec is PushMetricExporter {
  const e = spec as PushMetricExporter;
  return typeof e.export === 'function' && typeof e.shutdown === 'function' && typeof e.forceFlush === 'function';
}

/** Turns one `exporters` entry into an attached exporter (undefined for `none`). */
export function createExporter(spec: ExporterSpec, context: ExporterContext): ExporterInstance | undefined {
  if (typeof spec === 'string') {
    const plugin = BUILT_IN.get(spec);
    if (!plugin) throw new ConfigError('exporters', `"${spec}" is not a built-in exporter; use ${[...BUILT_IN.keys()].join(', ')}`);
    return plugin.create(context);
  }
  if (typeof spec === 'object' && spec !== null) {
    if (isReader(spec)) return { name: 'custom-reader', reader: spec };
    if (isPushExporter(spec)) return periodicExporter('custom-push', 'custom', spec, context, context.config.otlp.maxInFlight);
  }
  throw new ConfigError('exporters', 'an entry is neither an exporter name, a MetricReader nor a PushMetricExporter');
}
