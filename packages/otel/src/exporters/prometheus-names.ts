import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { prometheusMetricName, prometheusUnit, type PrometheusNamingType } from '@tierkv/core';

function namingType(metric: MetricData): PrometheusNamingType {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'updowncounter';
    case DataPointType.GAUGE:
      return 'gauge';
    default:
      return 'histogram';
  }
}

/**
 * The collection with every metric renamed to its Prometheus name by the OpenTelemetry →
 * Prometheus compatibility rules (unit suffix, `_total`, `_ratio`: see `prometheusMetricName` in
 * @tierkv/core), the names a Collector or Prometheus's OTLP receiver give the same metrics, and
 * the unit turned into its Prometheus word for the `# UNIT` comment (none when it adds no suffix).
 *
 * The SDK's serializer (0.223) has no option for this: it only replaces invalid characters and
 * appends `_total`. Both are no-ops on the names produced here, so it serializes them unchanged.
 */
export function withPrometheusNames(collection: ResourceMetrics): ResourceMetrics {
  return {
    resource: collection.resource,
    scopeMetrics: collection.scopeMetrics.map((sm) => ({
      scope: sm.scope,
      metrics: sm.metrics.map(
        (m) =>
          ({
            ...m,
            descriptor: {
              ...m.descriptor,
              name: prometheusMetricName(m.descriptor.name, m.descriptor.unit, namingType(m)),
              unit: prometheusUnit(m.descriptor.unit),
            },
          }) as MetricData,
      ),
    })),
  };
}
