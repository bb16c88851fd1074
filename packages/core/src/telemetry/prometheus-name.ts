import type { InstrumentKind } from './metric-definition.js';

/**
 * What the OpenTelemetry → Prometheus translation needs to know about a metric's type: a monotonic
 * sum is a Prometheus counter (`_total`), a gauge may be a ratio (`_ratio` for unit `1`), and a
 * non-monotonic sum (UpDownCounter) or a histogram gets neither.
 */
export type PrometheusNamingType = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

/** UCUM unit → Prometheus base-unit word (OpenTelemetry spec, "Prometheus and OpenMetrics Compatibility"). */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '1': '',
  '%': 'percent',
};

/** The denominator of a `x/y` unit: `By/s` → `bytes_per_second`. */
const PER_UNIT_WORDS: Readonly<Record<string, string>> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/** Characters outside `[a-zA-Z0-9:]` separate name tokens (so runs of `_`, `.` and `-` become one `_`). */
const SEPARATOR = /[^a-zA-Z0-9:]+/;

function tokens(s: string): string[] {
  return s.split(SEPARATOR).filter((t) => t !== '');
}

/** One side of a unit (`By`, `{chunk}`, `s`) as name tokens; annotations in braces add nothing. */
function unitTokens(part: string | undefined, words: Readonly<Record<string, string>>): string[] {
  const u = (part ?? '').trim();
  if (u === '' || /[{}]/.test(u)) return [];
  return tokens(Object.hasOwn(words, u) ? words[u]! : u);
}

/**
 * The Prometheus unit words for a UCUM unit: `By` → `bytes`, `s` → `seconds`, `By/s` →
 * `bytes_per_second`, `{chunk}` and `1` → `` (nothing).
 */
export function prometheusUnit(unit: string): string {
  const [main, per] = unit.split('/', 2) as [string, string | undefined];
  const perTokens = unitTokens(per, PER_UNIT_WORDS);
  return [...unitTokens(main, UNIT_WORDS), ...(perTokens.length ? ['per', ...perTokens] : [])].join('_');
}

/**
 * A metric's Prometheus name, by the OpenTelemetry → Prometheus compatibility rules that the
 * Prometheus OTLP receiver (translation strategy `UnderscoreEscapingWithSuffixes`, its default) and
 * the Collector's Prometheus exporters apply to OTLP metrics. tierkv's own scrape endpoint uses it
 * too, so both routes yield one set of names:
 *
 * 1. the name is split into tokens at every character outside `[a-zA-Z0-9:]` and rejoined with
 *    `_` (`tierkv.l1.memory.used` → `tierkv_l1_memory_used`; runs of `_` collapse);
 * 2. the unit's Prometheus word is appended unless the name already has it as a token (`By` →
 *    `_bytes`, `s` → `_seconds`, `ms` → `_milliseconds`, `By/s` → `_bytes_per_second`); units in
 *    braces (`{chunk}`) and `1` add nothing;
 * 3. counters (monotonic sums) end in `_total`, moved to the end if the name held it elsewhere, never
 *    doubled;
 * 4. gauges (not UpDownCounters) with unit `1` end in `_ratio`, likewise;
 * 5. a leading digit gets a `_` prefix.
 */
export function prometheusMetricName(name: string, unit: string, type: PrometheusNamingType): string {
  let parts = tokens(name);
  const [main, per] = unit.split('/', 2) as [string, string | undefined];
  const mainWord = unitTokens(main, UNIT_WORDS).join('_');
  const perTokens = unitTokens(per, PER_UNIT_WORDS);
  const perWord = perTokens.length ? ['per', ...perTokens].join('_') : '';
  if (mainWord !== '' && !parts.includes(mainWord)) parts.push(mainWord);
  if (perWord !== '' && !parts.includes(perWord)) parts.push(perWord);
  if (type === 'counter') parts = [...parts.filter((t) => t !== 'total'), 'total'];
  if (type === 'gauge' && unit === '1') parts = [...parts.filter((t) => t !== 'ratio'), 'ratio'];
  let out = parts.join('_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** How an instrument kind is typed for naming (observable or not makes no difference). */
export function namingTypeOf(kind: InstrumentKind): PrometheusNamingType {
  switch (kind) {
    case 'counter':
    case 'observable_counter':
      return 'counter';
    case 'updowncounter':
    case 'observable_updowncounter':
      return 'updowncounter';
    case 'gauge':
    case 'observable_gauge':
      return 'gauge';
    case 'histogram':
      return 'histogram';
  }
}
