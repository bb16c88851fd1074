import type { Histogram, MeterProvider } from '@opentelemetry/api';
import { ATTR, MeterBinding, telemetryCallbackErrors } from '@tierkv/core';
import type { ExportHealth } from './export-health.js';
import { OTEL_SCOPE } from '../scope.js';

export interface ExportHealthInstruments {
  readonly exportDuration: Histogram;
}

/** `tierkv.telemetry.*`: export failures and durations, and the modules' callback errors. */
export function createExportHealthMetrics(health: ExportHealth, meterProvider: MeterProvider): MeterBinding<ExportHealthInstruments> {
  return new MeterBinding(
    OTEL_SCOPE,
    (f) => {
      f.observe(['tierkv.telemetry.export.failures', 'tierkv.telemetry.callback.errors'], (observe) => {
        observe('tierkv.telemetry.callback.errors', telemetryCallbackErrors());
        for (const exporter of health.exporters()) {
          observe('tierkv.telemetry.export.failures', health.failures(exporter), { [ATTR.TELEMETRY_EXPORTER]: exporter });
        }
      });
      return { exportDuration: f.histogram('tierkv.telemetry.export.duration') };
    },
    { meterProvider },
  );
}
