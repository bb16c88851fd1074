import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  MetricReader,
  type ResourceMetrics,
  type MetricData,
} from '@opentelemetry/sdk-metrics';

/** A reader the test collects from on demand. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TestMeterProvider {
  meterProvider: MeterProvider;
  /** Collects now; throws if the SDK reported collection errors. */
  collect(): Promise<ResourceMetrics>;
  shutdown(): Promise<void>;
}

/** A MeterProvider with a manual reader (cumulative), for asserting on one module's metrics. */
export function createTestMeterProvider(): TestMeterProvider {
  const reader = new ManualReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection reported errors');
      return resourceMetrics;
    },
    shutdown: () => meterProvider.shutdown(),
  };
}

export function findMetric(rm: ResourceMetrics, name: string): MetricData | undefined {
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) return m;
  return undefined;
}

function matches(point: Attributes, wanted: Attributes): boolean {
  return Object.entries(wanted).every(([k, v]) => point[k] === v);
}

/**
 * The value of a sum or gauge metric summed over data points whose attributes include `attributes`;
 * for a histogram, the count. Undefined when the metric is absent.
 */
export function valueOf(rm: ResourceMetrics, name: string, attributes: Attributes = {}): number | undefined {
  const metric = findMetric(rm, name);
  if (!metric) return undefined;
  let total = 0;
  for (const dp of metric.dataPoints as { attributes: Attributes; value: unknown }[]) {
    if (!matches(dp.attributes, attributes)) continue;
    if (metric.dataPointType === DataPointType.HISTOGRAM || metric.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) {
      total += (dp.value as { count: number }).count;
    } else {
      total += dp.value as number;
    }
  }
  return total;
}

/** Histogram sum over matching points. */
export function histogramSumOf(rm: ResourceMetrics, name: string, attributes: Attributes = {}): number | undefined {
  const metric = findMetric(rm, name);
  if (!metric) return undefined;
  let total = 0;
  for (const dp of metric.dataPoints as { attributes: Attributes; value: { sum?: number } }[]) {
    if (matches(dp.attributes, attributes)) total += dp.value.sum ?? 0;
  }
  return total;
}

export { InMemoryMetricExporter, PeriodicExportingMetricReader };
