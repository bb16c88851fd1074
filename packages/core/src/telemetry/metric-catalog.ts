import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { L1_METRICS } from './catalog/l1-catalog.js';
import { L2_METRICS } from './catalog/l2-catalog.js';
import { STORAGE_METRICS } from './catalog/storage-catalog.js';
import { CONTROLLER_METRICS } from './catalog/controller-catalog.js';
import { WORKER_METRICS } from './catalog/worker-catalog.js';
import { VLLM_PUBLISHER_METRICS } from './catalog/vllm-publisher-catalog.js';
import { SERVER_METRICS } from './catalog/server-catalog.js';
import { CLIENT_METRICS } from './catalog/client-catalog.js';
import { TELEMETRY_METRICS } from './catalog/telemetry-catalog.js';
import { REDIS_METRICS } from './catalog/redis-catalog.js';
import type { MetricDefinition } from './metric-definition.js';
import { namingTypeOf, prometheusMetricName } from './prometheus-name.js';

/** Every metric tierkv emits, grouped by module; `docs/metrics.md` is generated from it. */
export const METRIC_CATALOG: readonly MetricDefinition[] = Object.freeze([
  ...L1_METRICS,
  ...L2_METRICS,
  ...REDIS_METRICS,
  ...STORAGE_METRICS,
  ...CONTROLLER_METRICS,
  ...WORKER_METRICS,
  ...VLLM_PUBLISHER_METRICS,
  ...SERVER_METRICS,
  ...CLIENT_METRICS,
  ...TELEMETRY_METRICS,
]);

const BY_NAME = new Map(METRIC_CATALOG.map((d) => [d.name, d]));

/** The catalog entry for `name`; throws if a module tries to create a metric the catalog lacks. */
export function metricDefinition(name: string): MetricDefinition {
  const def = BY_NAME.get(name);
  if (!def) {
    throw new InvalidArgumentError('metric', `${name} is not in the tierkv metric catalog; add it to packages/core/src/telemetry/catalog/`);
  }
  return def;
}

/**
 * The metric's Prometheus name, the same on every route: tierkv's scrape endpoint (@tierkv/otel),
 * a Collector's Prometheus exporters and Prometheus's own OTLP receiver (`UnderscoreEscapingWithSuffixes`).
 * `tierkv.l1.memory.used` (By) → `tierkv_l1_memory_used_bytes`, `tierkv.l2.stored` ({chunk}, counter)
 * → `tierkv_l2_stored_total`; see {@link prometheusMetricName} for the rules.
 */
export function prometheusName(def: MetricDefinition): string {
  return prometheusMetricName(def.name, def.unit, namingTypeOf(def.kind));
}
