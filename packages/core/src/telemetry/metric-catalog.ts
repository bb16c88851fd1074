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
 * The metric's name in a scrape of the OpenTelemetry Prometheus exporter (0.2xx): every character
 * outside `[a-zA-Z0-9_]` becomes `_`, runs of `_` collapse to one, a leading digit gets a `_` prefix,
 * and monotonic sums (counters) end in `_total`. That exporter adds no unit suffix (the unit goes
 * to a `# UNIT` comment instead), so neither do we.
 */
export function prometheusName(def: MetricDefinition): string {
  let name = def.name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
  if (/^[0-9]/.test(name)) name = `_${name}`;
  const monotonic = def.kind === 'counter' || def.kind === 'observable_counter';
  if (monotonic && !name.endsWith('_total')) name += '_total';
  return name;
}
