import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.telemetry.*`: the health of tierkv's own telemetry pipeline. */
export const TELEMETRY_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.telemetry.callback.errors',
    kind: 'observable_counter',
    unit: '{error}',
    description: 'Metric collection callbacks of tierkv modules that threw; their values were skipped for that collection.',
    attributes: [],
  },
];
