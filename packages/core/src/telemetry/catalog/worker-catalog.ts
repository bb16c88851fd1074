import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.worker.*` metrics. */
export const WORKER_METRICS: readonly MetricDefinition[] = [];
