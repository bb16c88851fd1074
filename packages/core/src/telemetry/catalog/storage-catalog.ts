import type { MetricDefinition } from '../metric-definition.js';

/** `tierkv.storage.*` metrics. */
export const STORAGE_METRICS: readonly MetricDefinition[] = [];
