import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { METRIC_CATALOG } from '@tierkv/core';
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
