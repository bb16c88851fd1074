import { ATTR } from '../attribute-names.js';
import type { MetricDefinition } from '../metric-definition.js';

/** Push exporters whose health `@tierkv/otel` reports; `custom` is any PushMetricExporter the user supplies. */
const EXPORTER_ATTRIBUTE = {
  name: ATTR.TELEMETRY_EXPORTER,
  values: ['otlp', 'console', 'custom'],
  description: 'The push exporter: OTLP (either protocol), the console exporter, or a user-supplied PushMetricExporter.',
} as const;

/** `tierkv.telemetry.*`: the health of tierkv's own telemetry pipeline. */
export const TELEMETRY_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.telemetry.callback.errors',
    kind: 'observable_counter',
    unit: '{error}',
    description: 'Metric collection callbacks of tierkv modules that threw; their values were skipped for that collection.',
    attributes: [],
  },
  {
    name: 'tierkv.telemetry.export.failures',
    kind: 'observable_counter',
    unit: '{export}',
    description:
      'Metric exports that failed (endpoint unreachable, rejected, timed out, or dropped because earlier exports were still in flight).',
    attributes: [EXPORTER_ATTRIBUTE],
  },
  {
    name: 'tierkv.telemetry.export.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time one metric export took, from hand-off to the exporter until its result.',
    attributes: [
      EXPORTER_ATTRIBUTE,
      { name: ATTR.TELEMETRY_EXPORT_OUTCOME, values: ['success', 'failure'], description: 'Whether the export succeeded.' },
    ],
  },
];
