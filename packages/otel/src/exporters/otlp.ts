import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OtlpJsonMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { AggregationType, InstrumentType, type AggregationOption } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '@tierkv/core';
import type { EnvFile, TemporalityPreference } from '../config/env.js';
import type { ResolvedOtlpConfig } from '../config/telemetry-config.js';
import type { ExporterPlugin } from './exporter-plugin.js';
import { periodicExporter } from './periodic-reader.js';

const TEMPORALITY: Record<TemporalityPreference, AggregationTemporalityPreference> = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
};

/**
 * Reads a PEM file now, so a wrong path fails startTelemetry naming its variable; the SDK exporter
 * would only log it through diag (silent by default) and connect without it.
 */
function pem(file: EnvFile | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(resolve(process.cwd(), file.path));
  } catch (err) {
    throw new ConfigError(file.source, `cannot read "${file.path}" (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the path of a PEM file`, { cause: err });
  }
}

function aggregationPreference(otlp: ResolvedOtlpConfig): ((t: InstrumentType) => AggregationOption) | undefined {
  if (otlp.histogramAggregation !== 'base2_exponential_bucket_histogram') return undefined;
  return (t) => (t === InstrumentType.HISTOGRAM ? { type: AggregationType.EXPONENTIAL_HISTOGRAM } : { type: AggregationType.DEFAULT });
}

/**
 * OTLP over HTTP, protobuf or JSON, pushed every export interval. Every setting is passed
 * explicitly (compression and TLS included), so the `env` option, not process.env, decides.
 */
export const otlpPlugin: ExporterPlugin = {
  name: 'otlp',
  create(context) {
    const { otlp } = context.config;
    const ca = pem(otlp.certificate);
    const cert = pem(otlp.clientCertificate);
    const key = pem(otlp.clientKey);
    const exporterOptions = {
      url: otlp.endpoint,
      headers: { ...otlp.headers },
      timeoutMillis: otlp.timeoutMillis,
      temporalityPreference: TEMPORALITY[otlp.temporality],
      concurrencyLimit: otlp.maxInFlight,
      compression: otlp.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      // keepAlive as in the SDK's own default agent.
      httpAgentOptions: { keepAlive: true, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) },
      aggregationPreference: aggregationPreference(otlp),
    };
    const exporter =
      otlp.protocol === 'http/json' ? new OtlpJsonMetricExporter(exporterOptions) : new OtlpProtoMetricExporter(exporterOptions);
    return periodicExporter('otlp', 'otlp', exporter, context, otlp.maxInFlight);
  },
};
