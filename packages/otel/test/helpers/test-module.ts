import type { MeterProvider } from '@opentelemetry/api';
import { MeterBinding } from '@tierkv/core';

/**
 * A stand-in tierkv module (its own scope, catalog metrics from the telemetry area, which this
 * package owns): a histogram recorded per call and an observable counter read at collection.
 */
export class TestModule {
  readonly #binding;
  failures = 0;

  constructor(options: { meterProvider?: MeterProvider } = {}) {
    this.#binding = new MeterBinding(
      { name: 'test-module', version: '1.0.0' },
      (f) => {
        f.observe(['tierkv.telemetry.export.failures'], (observe) => observe('tierkv.telemetry.export.failures', this.failures, { 'tierkv.telemetry.exporter': 'custom' }));
        return { duration: f.histogram('tierkv.telemetry.export.duration') };
      },
      options,
    );
  }

  /** One "operation": records its duration and bumps the counter. */
  work(seconds: number): void {
    this.failures++;
    this.#binding.instruments.duration.record(seconds, { 'tierkv.telemetry.exporter': 'custom', 'tierkv.telemetry.export.outcome': 'success' });
  }

  close(): void {
    this.#binding.close();
  }
}
