import { METRIC_CATALOG, prometheusName, type MetricDefinition } from '@tierkv/core';
import type { OtlpPoint } from '@tierkv/test-utils/otlp-receiver';
import { otlpToPrometheusLabel, otlpToPrometheusName } from '@tierkv/test-utils/otlp-to-prometheus';
import type { PromExposition } from '@tierkv/test-utils/prometheus-text';

const BY_NAME = new Map(METRIC_CATALOG.map((d) => [d.name, d]));

/** Metrics about the exports themselves: they change with every export, so the two paths differ by design. */
export const SELF_METRICS = new Set(['tierkv.telemetry.export.duration', 'tierkv.telemetry.export.failures']);

function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

/** One number per series: counters, gauges, and histogram `_count`, `_sum` and cumulative `_bucket`s. */
export type SeriesValues = Map<string, number>;

/**
 * The series an OTLP export becomes in Prometheus terms (catalog metrics only), named by the
 * spec's translation as test-utils implements it (not by tierkv's own prometheusName): the
 * Prometheus side must match what a Collector or Prometheus's OTLP receiver would store.
 */
export function otlpSeries(points: readonly OtlpPoint[]): SeriesValues {
  const out: SeriesValues = new Map();
  for (const p of points) {
    const def = BY_NAME.get(p.metric);
    if (!def || SELF_METRICS.has(def.name)) continue;
    const type = p.type === 'sum' ? (p.monotonic ? 'monotonic_sum' : 'sum') : p.type === 'exponentialHistogram' ? 'exponential_histogram' : p.type;
    const base = otlpToPrometheusName(p.metric, p.unit, type);
    const labels: Record<string, string> = { otel_scope_name: p.scope };
    for (const [k, v] of Object.entries(p.attributes)) labels[otlpToPrometheusLabel(k)] = String(v);
    if (p.type === 'histogram') {
      out.set(seriesKey(`${base}_count`, labels), p.value);
      out.set(seriesKey(`${base}_sum`, labels), p.sum ?? 0);
      let cumulative = 0;
      p.bucketCounts!.forEach((c, i) => {
        cumulative += c;
        const le = i < p.explicitBounds!.length ? String(p.explicitBounds![i]) : '+Inf';
        out.set(seriesKey(`${base}_bucket`, { ...labels, le }), cumulative);
      });
    } else {
      out.set(seriesKey(base, labels), p.value);
    }
  }
  return out;
}

/** The catalog series of a Prometheus scrape. */
export function promSeries(exposition: PromExposition): SeriesValues {
  const names = new Map<string, MetricDefinition>();
  for (const def of METRIC_CATALOG) {
    if (SELF_METRICS.has(def.name)) continue;
    const base = prometheusName(def);
    if (def.kind === 'histogram') for (const s of ['_count', '_sum', '_bucket']) names.set(base + s, def);
    else names.set(base, def);
  }
  const out: SeriesValues = new Map();
  for (const s of exposition.samples) {
    if (!names.has(s.name)) continue;
    const { otel_scope_version: _v, ...labels } = s.labels;
    out.set(seriesKey(s.name, labels), s.value);
  }
  return out;
}

/** Catalog metric names a set of series covers. */
export function metricNamesOf(series: SeriesValues): Set<string> {
  const byProm = new Map<string, string>();
  for (const def of METRIC_CATALOG) {
    const base = prometheusName(def);
    byProm.set(base, def.name);
    for (const s of ['_count', '_sum', '_bucket']) if (def.kind === 'histogram') byProm.set(base + s, def.name);
  }
  const out = new Set<string>();
  for (const key of series.keys()) {
    const name = byProm.get(key.slice(0, key.indexOf('{')));
    if (name) out.add(name);
  }
  return out;
}

/** Human-readable differences between two sets of series (empty when equal). */
export function diffSeries(a: SeriesValues, b: SeriesValues, aName: string, bName: string): string[] {
  const out: string[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) out.push(`${k} = ${v} only in ${aName}`);
    else if (b.get(k) !== v) out.push(`${k}: ${aName} ${v} != ${bName} ${b.get(k)}`);
  }
  for (const [k, v] of b) if (!a.has(k)) out.push(`${k} = ${v} only in ${bName}`);
  return out;
}
