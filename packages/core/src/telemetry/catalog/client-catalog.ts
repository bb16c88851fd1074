import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.client.*` metrics. */
export const CLIENT_METRICS: readonly MetricDefinition[] = [];
