// Renders docs/metrics.md from the metric catalog in @tierkv/core (built dist).
import { ATTRIBUTE_NAMES, METRIC_CATALOG, prometheusName } from '@tierkv/core';

const SECTIONS = [
  ['tierkv.l1.', 'L1 manager (`tierkv.l1.*`)'],
  ['tierkv.l2.', 'L2 adapters (`tierkv.l2.*`)'],
  ['db.client.', 'Redis client (OpenTelemetry database conventions)'],
  ['tierkv.storage.', 'Storage manager, store and prefetch controllers (`tierkv.storage.*`)'],
  ['tierkv.server.', 'MP-mode server (`tierkv.server.*`)'],
  ['tierkv.client.', 'Server client (`tierkv.client.*`)'],
  ['tierkv.controller.', 'Cache controller (`tierkv.controller.*`)'],
  ['tierkv.worker.', "Controller's worker client (`tierkv.worker.*`)"],
  ['tierkv.vllm_publisher.', 'vLLM KV event publisher (`tierkv.vllm_publisher.*`)'],
  ['tierkv.telemetry.', 'Telemetry pipeline health (`tierkv.telemetry.*`)'],
];

const KIND = {
  counter: 'Counter',
  updowncounter: 'UpDownCounter',
  histogram: 'Histogram',
  gauge: 'Gauge',
  observable_counter: 'ObservableCounter',
  observable_updowncounter: 'ObservableUpDownCounter',
  observable_gauge: 'ObservableGauge',
};

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function attributes(def) {
  if (def.attributes.length === 0) return '—';
  return def.attributes.map((a) => `\`${a.name}\` (${a.values.map((v) => `\`${v}\``).join(', ')})`).join('<br>');
}

function promRendering(def) {
  const base = prometheusName(def);
  return def.kind === 'histogram' ? `\`${base}_bucket\`, \`_sum\`, \`_count\`` : `\`${base}\``;
}

/** The attribute names (ATTR in @tierkv/core), with the metrics that carry each one. */
function attributeSection() {
  const usedBy = new Map();
  for (const d of METRIC_CATALOG) for (const a of d.attributes) usedBy.set(a.name, [...(usedBy.get(a.name) ?? []), d.name]);
  const out = ['', '## Attributes', ''];
  out.push('One naming scheme for every metric and span attribute: a registered OpenTelemetry semantic-convention');
  out.push('attribute where one exists (`error.type`, `db.operation.name`, `server.address`, `gen_ai.request.model`, …),');
  out.push('otherwise a `tierkv.`-namespaced, lowercase dotted name, and one name per idea: the L2 operation is');
  out.push('`tierkv.l2.operation` on every metric and span that carries it. The names are declared once, as `ATTR` in');
  out.push('`@tierkv/core` (packages/core/src/telemetry/attribute-names.ts); the catalog and the instrumented code use');
  out.push('those constants, and test/otel/attribute-names.test.ts fails on an undeclared name, on two names for one');
  out.push('idea, or on a workload exporting a name or value its catalog entry does not declare. In Prometheus the dots');
  out.push('become underscores (`tierkv.l2.operation` → `tierkv_l2_operation`). Renamed from the earlier bare labels');
  out.push('(`operation`, `reason`, `state`, …): see the upgrade note in docs/observability.md.');
  out.push('');
  out.push('| attribute | convention | meaning | on metrics |');
  out.push('|---|---|---|---|');
  for (const [name, def] of Object.entries(ATTRIBUTE_NAMES)) {
    const metrics = usedBy.get(name);
    const on = metrics ? metrics.map((m) => `\`${m}\``).join(', ') : def.spanOnly ? 'spans only' : 'opt-in (see docs/observability.md)';
    out.push(`| \`${name}\` | ${def.semconv ? 'OpenTelemetry' : 'tierkv'} | ${cell(def.description)} | ${on} |`);
  }
  return out;
}

export function renderMetricsDoc() {
  const out = [];
  out.push('# tierkv metrics');
  out.push('');
  out.push('<!-- Generated from the catalog in packages/core/src/telemetry/catalog/ by `npm run docs:metrics`. Do not edit by hand. -->');
  out.push('');
  out.push('Every metric tierkv emits, by module. OpenTelemetry names use the `tierkv.` namespace and UCUM units;');
  out.push('the Prometheus column shows the name each one has in Prometheus, the same on every route: tierkv\'s');
  out.push('`/metrics` scrape, a Collector\'s Prometheus exporters, and Prometheus\'s OTLP receiver (its default');
  out.push('`UnderscoreEscapingWithSuffixes`). By the OpenTelemetry → Prometheus compatibility rules: dots become');
  out.push('underscores, the unit is a suffix (`By` → `_bytes`, `s` → `_seconds`; `{chunk}`-style units add none),');
  out.push('counters end in `_total`, gauges with unit `1` in `_ratio` (see docs/observability.md). Attributes are');
  out.push('always drawn from the closed sets listed. The LMCache column names the LMCache metric each one');
  out.push('replaces, so existing dashboards can be ported.');
  out.push('');
  out.push(`${METRIC_CATALOG.length} metrics in all.`);
  for (const [prefix, title] of SECTIONS) {
    const defs = METRIC_CATALOG.filter((d) => d.name.startsWith(prefix));
    if (defs.length === 0) continue;
    out.push('');
    out.push(`## ${title}`);
    out.push('');
    out.push('| OpenTelemetry name | type | unit | attributes | description | Prometheus | LMCache counterpart |');
    out.push('|---|---|---|---|---|---|---|');
    for (const d of defs) {
      const lm = d.lmcache && d.lmcache.length ? d.lmcache.map((n) => `\`${n}\``).join('<br>') : '—';
      out.push(`| \`${d.name}\` | ${KIND[d.kind]} | \`${cell(d.unit)}\` | ${attributes(d)} | ${cell(d.description)} | ${promRendering(d)} | ${lm} |`);
    }
  }
  out.push(...attributeSection());
  const mapped = METRIC_CATALOG.filter((d) => d.lmcache && d.lmcache.length);
  if (mapped.length) {
    out.push('');
    out.push('## LMCache → tierkv');
    out.push('');
    out.push('| LMCache metric | tierkv metric (Prometheus) |');
    out.push('|---|---|');
    const rows = [];
    for (const d of mapped) for (const n of d.lmcache) rows.push([n, d]);
    rows.sort((a, b) => a[0].localeCompare(b[0]));
    for (const [n, d] of rows) out.push(`| \`${n}\` | \`${d.name}\` (\`${prometheusName(d)}\`) |`);
  }
  out.push('');
  return out.join('\n');
}
