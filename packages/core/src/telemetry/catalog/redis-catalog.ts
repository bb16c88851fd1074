import type { MetricDefinition } from '../metric-definition.js';

/** Metrics of the Redis L2 adapter that follow OpenTelemetry's database semantic conventions (`db.client.*`). */
export const REDIS_METRICS: readonly MetricDefinition[] = [];
