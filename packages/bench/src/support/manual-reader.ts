import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** A reader that collects only when asked: an attached SDK with no export traffic of its own. */
export class ManualReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A MeterProvider with one ManualReader; `collect` throws if the SDK reports errors. */
export function meterProviderWithReader(): { meterProvider: MeterProvider; collect(): Promise<number>; shutdown(): Promise<void> } {
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection reported errors');
      return resourceMetrics.scopeMetrics.reduce((n, sm) => n + sm.metrics.length, 0);
    },
    shutdown: () => meterProvider.shutdown(),
  };
}
