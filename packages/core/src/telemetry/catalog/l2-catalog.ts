import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.l2.*` metrics. */
export const L2_METRICS: readonly MetricDefinition[] = [];
