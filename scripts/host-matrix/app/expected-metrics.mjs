// The metric families a case must receive, derived from the installed @tierkv/core catalog rather
// than counted: every catalog metric of the modules the workload runs (workload.mjs, or the demo,
// which runs the same modules), except the families that need something the workload does not do.
// A family missing from what arrives is a failure; a family beyond the set is reported, never a failure.
import { METRIC_CATALOG, prometheusName } from '@tierkv/core';

/** The modules the workload runs, by metric name prefix. */
const WORKLOAD_MODULES = ['tierkv.l1.', 'tierkv.l2.', 'tierkv.storage.', 'tierkv.controller.', 'tierkv.worker.', 'tierkv.server.', 'tierkv.client.'];
/** @tierkv/otel's own health metrics: only where its pipeline runs (startTelemetry, the demo). */
const PIPELINE_MODULE = 'tierkv.telemetry.';

/** Catalog families the workload does not produce, each with the reason. */
export const NOT_PRODUCED = [
  { prefix: 'tierkv.l2.redis.', why: 'the Redis L2 adapter (the workload uses the filesystem L2)' },
  { prefix: 'db.client.', why: 'the Redis L2 adapter' },
  { prefix: 'tierkv.controller.vllm.', why: 'vLLM KV-event ingestion (demo --vllm)' },
  { prefix: 'tierkv.vllm_publisher.', why: 'a vLLM KV-event publisher (demo --vllm)' },
  { name: 'tierkv.telemetry.export.duration', why: 'a push exporter (the cases scrape)' },
  { name: 'tierkv.telemetry.export.failures', why: 'a push exporter (observed per push exporter)' },
  { name: 'tierkv.controller.frames.dropped', why: 'a malformed frame (observed per socket and reason once one was dropped)' },
  { name: 'tierkv.worker.request.failures', why: 'a failed controller request (observed per request and reason once one failed)' },
];

const excluded = (name) => NOT_PRODUCED.some((x) => (x.prefix ? name.startsWith(x.prefix) : name === x.name));

/** The expected catalog entries; `pipeline` when @tierkv/otel's startTelemetry() runs the process's telemetry. */
export function expectedMetrics({ pipeline }) {
  const modules = pipeline ? [...WORKLOAD_MODULES, PIPELINE_MODULE] : WORKLOAD_MODULES;
  const set = METRIC_CATALOG.filter((d) => modules.some((p) => d.name.startsWith(p)) && !excluded(d.name));
  if (set.length === 0) throw new Error('no expected metric: the installed @tierkv/core catalog is empty or renamed its modules');
  return set;
}

/** Families present in a Prometheus exposition (a family counts once it has a sample). */
export function prometheusFamilies(text) {
  const names = new Set();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

/** Compares what arrived with the expected set. `names` holds OTel names, or Prometheus names when `prometheus`. */
export function compare(expected, names, { prometheus = false } = {}) {
  const has = (d) => {
    if (!prometheus) return names.has(d.name);
    const p = prometheusName(d);
    return d.kind === 'histogram' ? names.has(`${p}_count`) : names.has(p);
  };
  const missing = expected.filter((d) => !has(d)).map((d) => d.name);
  const catalog = new Set(METRIC_CATALOG.map((d) => (prometheus ? prometheusName(d) : d.name)));
  const tierkvNames = [...names].filter((n) => n.startsWith('tierkv') || n.startsWith('db_client') || n.startsWith('db.client'));
  const known = tierkvNames.filter((n) => catalog.has(n) || (prometheus && catalog.has(n.replace(/_(bucket|count|sum)$/, ''))));
  return { missing, received: expected.length - missing.length, unknown: tierkvNames.filter((n) => !known.includes(n)) };
}
