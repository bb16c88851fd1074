import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.l1.*` metrics. */
export const L1_METRICS: readonly MetricDefinition[] = [];
