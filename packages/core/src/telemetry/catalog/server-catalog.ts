import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.server.*` metrics. */
export const SERVER_METRICS: readonly MetricDefinition[] = [];
