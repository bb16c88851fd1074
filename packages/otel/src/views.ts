import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { METRIC_CATALOG } from '@tierkv/core';
import type { ResolvedViewsConfig } from './config/telemetry-config.js';

/**
 * One view per catalog metric (exactly one, so no metric is exported twice): the cardinality
 * limit, and a rename, a drop or explicit bucket boundaries when configured. A view with the
 * default aggregation keeps the catalog's bucket advice (seconds, 10 µs to 10 s), so histograms
 * fit our latencies whichever reader collects them. The host's own instruments are untouched.
 *
 * With `histogramsPerReader` (OTLP asked for exponential histograms) a plain histogram gets no view:
 * any view would impose its aggregation on every reader, overriding the OTLP exporter's choice.
 * The readers then keep one storage each and apply the cardinality limit themselves.
 */
export function buildViews(config: ResolvedViewsConfig): ViewOptions[] {
  const views: ViewOptions[] = [];
  for (const def of METRIC_CATALOG) {
    const view: ViewOptions = { instrumentName: def.name, aggregationCardinalityLimit: config.cardinalityLimit };
    const boundaries = config.histogramBoundaries[def.name];
    const plain = !boundaries && !config.drop.includes(def.name) && config.rename[def.name] === undefined;
    if (config.histogramsPerReader && def.kind === 'histogram' && plain) continue;
    if (config.drop.includes(def.name)) {
      view.aggregation = { type: AggregationType.DROP };
    } else if (boundaries) {
      view.aggregation = { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [...boundaries] } };
    }
    const rename = config.rename[def.name];
    if (rename !== undefined) view.name = rename;
    views.push(view);
  }
  return [...views, ...config.extra];
}
