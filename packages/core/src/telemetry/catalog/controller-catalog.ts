import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.controller.*` metrics. */
export const CONTROLLER_METRICS: readonly MetricDefinition[] = [];
