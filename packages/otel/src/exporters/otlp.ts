import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OtlpJsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { TemporalityPreference } from '../config/env.js';
import type { ExporterPlugin } from './exporter-plugin.js';
import { periodicExporter } from './periodic-reader.js';

const TEMPORALITY: Record<TemporalityPreference, AggregationTemporalityPreference> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/** OTLP over HTTP, protobuf or JSON, pushed every export interval. */
export const otlpPlugin: ExporterPlugin = {
  name: 'otlp',
  create(context) {
    const { otlp } = context.config;
    const exporterOptions = {
      url: otlp.endpoint,
      headers: { ...otlp.headers },
      timeoutMillis: otlp.timeoutMillis,
      temporalityPreference: TEMPORALITY[otlp.temporality],
      concurrencyLimit: otlp.maxInFlight,
    };
    const exporter =
      otlp.protocol === 'http/json' ? new OtlpJsonMetricExporter(exporterOptions) : new OtlpProtoMetricExporter(exporterOptions);
    return periodicExporter('otlp', 'otlp', exporter, context, otlp.maxInFlight);
  },
};
