/**
 * How Prometheus sees an OTLP export: the OpenTelemetry spec's "Prometheus and OpenMetrics
 * Compatibility" translation (OTLP metric points → Prometheus), written here from the spec's rules
 * and the behaviour of Prometheus's OTLP receiver in its default translation strategy
 * (`UnderscoreEscapingWithSuffixes`, prometheus/otlptranslator) — on purpose without any of
 * tierkv's own code, so tests can hold tierkv's scrape endpoint against it.
 *
 * - metric name: every character outside `[a-zA-Z0-9_:]` becomes `_`, runs of `_` become one,
 *   leading and trailing `_` go; a leading digit gets a `_` prefix;
 * - unit: abbreviations become words (`By` bytes, `s` seconds, `ms` milliseconds, …), anything in
 *   braces (`{chunk}`) is dropped, `1` adds nothing, `a/b` becomes `a_per_b` (`By/s` bytes_per_second);
 *   the main unit word is appended unless the name already has it as one of its `_`-separated words;
 * - monotonic sums are counters: `_total` last, never twice (a `total` word elsewhere moves there);
 * - gauges (OTLP Gauge, not non-monotonic sums) with unit `1` end in `_ratio`, likewise;
 * - histograms become `<name>_bucket` (cumulative, with `le`), `<name>_sum` and `<name>_count`;
 * - attribute keys become label names the same way as metric names (invalid characters → `_`,
 *   runs of `_` → one), with `key_` before a leading digit.
 */
import type { ExportMetricsRequest, OtlpKeyValue, OtlpMetric } from './otlp-receiver.js';

const WORD: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes',
  KBy: 'kilobytes', MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes',
  m: 'meters', V: 'volts', A: 'amperes', J: 'joules', W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '%': 'percent',
};
const PER_WORD: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** The OTLP shape of a metric, as far as naming cares. */
export type OtlpMetricType = 'monotonic_sum' | 'sum' | 'gauge' | 'histogram' | 'exponential_histogram';

function clean(s: string): string {
  return s.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_+/g, '_').replace(/^_/, '').replace(/_$/, '');
}

function unitPart(part: string, words: Record<string, string>): string {
  const p = part.trim();
  if (p === '' || p === '1' || p.includes('{') || p.includes('}')) return '';
  return clean(words[p] ?? p);
}

/** The Prometheus metric name (without `_bucket`/`_sum`/`_count`) of an OTLP metric. */
export function otlpToPrometheusName(name: string, unit: string, type: OtlpMetricType): string {
  let out = clean(name);
  const slash = unit.indexOf('/');
  const main = unitPart(slash < 0 ? unit : unit.slice(0, slash), WORD);
  const per = slash < 0 ? '' : unitPart(unit.slice(slash + 1), PER_WORD);
  const has = (word: string) => `_${out}_`.includes(`_${word}_`);
  if (main && !has(main)) out += `_${main}`;
  if (per) out += `_per_${per}`;
  const last = (word: string) => {
    out = out.split('_').filter((w) => w !== word).join('_');
    out += `_${word}`;
  };
  if (type === 'monotonic_sum') last('total');
  if (type === 'gauge' && unit === '1') last('ratio');
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/** An attribute key as a Prometheus label name. */
export function otlpToPrometheusLabel(key: string): string {
  const out = key.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_');
  return /^[0-9]/.test(out) ? `key_${out}` : out;
}

export function otlpMetricType(m: OtlpMetric): OtlpMetricType {
  if (m.sum) return m.sum.isMonotonic ? 'monotonic_sum' : 'sum';
  if (m.gauge) return 'gauge';
  if (m.histogram) return 'histogram';
  return 'exponential_histogram';
}

/** One Prometheus sample an OTLP data point becomes. */
export interface TranslatedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface TranslatedFamily {
  /** The family's name (a histogram's samples add `_bucket`, `_sum`, `_count`). */
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly samples: TranslatedSample[];
}

function labelsOf(list: OtlpKeyValue[] | undefined, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...extra };
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[otlpToPrometheusLabel(kv.key)] = String(v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue ?? '');
  }
  return out;
}

export interface TranslateOptions {
  /** Add `otel_scope_name` (as tierkv's scrape does; Prometheus's receiver does only when told to). */
  readonly scopeLabel?: boolean;
}

/**
 * Every metric family an OTLP export becomes in Prometheus. Exponential histograms are left out
 * (Prometheus turns them into native histograms, which the text format cannot carry).
 */
export function translateOtlpExport(request: ExportMetricsRequest, options: TranslateOptions = {}): TranslatedFamily[] {
  const families: TranslatedFamily[] = [];
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      const extra: Record<string, string> = options.scopeLabel ? { otel_scope_name: sm.scope?.name ?? '' } : {};
      for (const m of sm.metrics ?? []) {
        const type = otlpMetricType(m);
        if (type === 'exponential_histogram') continue;
        const name = otlpToPrometheusName(m.name, m.unit ?? '', type);
        const samples: TranslatedSample[] = [];
        if (m.histogram) {
          for (const p of m.histogram.dataPoints ?? []) {
            const labels = labelsOf(p.attributes, extra);
            samples.push({ name: `${name}_count`, labels, value: p.count ?? 0 });
            samples.push({ name: `${name}_sum`, labels, value: p.sum ?? 0 });
            const bounds = p.explicitBounds ?? [];
            let cumulative = 0;
            (p.bucketCounts ?? []).forEach((c, i) => {
              cumulative += c;
              samples.push({ name: `${name}_bucket`, labels: { ...labels, le: i < bounds.length ? String(bounds[i]) : '+Inf' }, value: cumulative });
            });
          }
        } else {
          for (const p of m.sum?.dataPoints ?? m.gauge?.dataPoints ?? []) {
            samples.push({ name, labels: labelsOf(p.attributes, extra), value: p.asDouble ?? p.asInt ?? 0 });
          }
        }
        families.push({ name, type: type === 'monotonic_sum' ? 'counter' : type === 'histogram' ? 'histogram' : 'gauge', help: m.description ?? '', samples });
      }
    }
  }
  return families;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Families as a Prometheus text exposition (0.0.4), e.g. to let a real Prometheus scrape an OTLP export. */
export function renderExposition(families: readonly TranslatedFamily[]): string {
  const merged = new Map<string, TranslatedFamily>();
  for (const f of families) {
    const seen = merged.get(f.name);
    if (seen) seen.samples.push(...f.samples);
    else merged.set(f.name, { ...f, samples: [...f.samples] });
  }
  let out = '';
  for (const f of merged.values()) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n') || 'description missing'}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      const value = s.value === Infinity ? '+Inf' : s.value === -Infinity ? '-Inf' : String(s.value);
      out += `${s.name}${labels.length ? `{${labels.join(',')}}` : ''} ${value}\n`;
    }
  }
  return out;
}
