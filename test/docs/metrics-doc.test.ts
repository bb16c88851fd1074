import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { METRIC_CATALOG, prometheusName } from '@tierkv/core';
import { otlpToPrometheusName } from '@tierkv/test-utils/otlp-to-prometheus';
// @ts-expect-error plain ESM script without types
import { renderMetricsDoc } from '../../scripts/metrics-doc.mjs';

describe('docs/metrics.md', () => {
  it('is generated from the current catalog (run `npm run docs:metrics` if this fails)', () => {
    const onDisk = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(onDisk).to.equal(renderMetricsDoc());
  });

  it('lists every catalog metric (each prefix has a section in scripts/metrics-doc.mjs)', () => {
    const onDisk = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    const missing = METRIC_CATALOG.filter((d) => !onDisk.includes(`| \`${d.name}\` |`)).map((d) => d.name);
    expect(missing).to.deep.equal([]);
  });

  it('catalog entries follow the naming rules', () => {
    const seen = new Set<string>();
    for (const d of METRIC_CATALOG) {
      expect(seen.has(d.name), `duplicate ${d.name}`).to.equal(false);
      seen.add(d.name);
      expect(d.name, d.name).to.match(/^(tierkv|db\.client)\.[a-z0-9_.]+$/);
      expect(d.name, d.name).not.to.match(/_total$/);
      expect(d.description.length, `${d.name} needs a description`).to.be.greaterThan(10);
      for (const a of d.attributes) expect(a.values.length, `${d.name}.${a.name} must list its values`).to.be.greaterThan(0);
    }
  });
});

describe('Prometheus names of the catalog', () => {
  it('are the names the OTLP route gets (the spec translation in test-utils, independent of prometheusName)', () => {
    const differ: string[] = [];
    for (const d of METRIC_CATALOG) {
      const type = d.kind === 'histogram' ? 'histogram' : d.kind.endsWith('updowncounter') ? 'sum' : d.kind.endsWith('counter') ? 'monotonic_sum' : 'gauge';
      const otlp = otlpToPrometheusName(d.name, d.unit, type);
      if (otlp !== prometheusName(d)) differ.push(`${d.name}: prometheusName ${prometheusName(d)}, OTLP route ${otlp}`);
    }
    expect(differ).to.deep.equal([]);
  });
});

describe('docs/grafana-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
    __inputs: { name: string; type: string; pluginId: string }[];
    templating: { list: { name: string; current?: { value?: string } }[] };
    panels: { targets?: { expr: string }[] }[];
  };

  it('is what packages/otel/scripts/gen-grafana-dashboard.mjs generates (run it if this fails)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierkv-dash-'));
    try {
      const out = join(dir, 'dashboard.json');
      execFileSync(process.execPath, [fileURLToPath(new URL('../../packages/otel/scripts/gen-grafana-dashboard.mjs', import.meta.url)), out]);
      expect(readFileSync(out, 'utf8')).to.equal(readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for the Prometheus data source on import', () => {
    expect(dashboard.__inputs).to.deep.include.members([{ ...dashboard.__inputs[0]!, name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }]);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.current?.value).to.equal('${DS_PROMETHEUS}');
  });

  it('shows rates over $__rate_interval, never increase over the whole $__range', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.filter((e) => /increase\(|\$__range/.test(e))).to.deep.equal([]);
  });

  it('queries only catalog metrics, by their Prometheus names', () => {
    const known = new Set<string>();
    for (const d of METRIC_CATALOG) {
      const n = prometheusName(d);
      known.add(n);
      if (d.kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(n + s);
    }
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const used = exprs.flatMap((e) => [...e.matchAll(/\b((?:tierkv|db_client)_[a-z0-9_]+)\{/g)].map((m) => m[1]!));
    expect(used.length).to.be.greaterThan(50);
    expect(used.filter((n) => !known.has(n))).to.deep.equal([]);
  });
});
