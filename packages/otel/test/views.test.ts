import { expect } from 'chai';
import { AggregationType } from '@opentelemetry/sdk-metrics';
import { METRIC_CATALOG } from '@tierkv/core';
import { resolveTelemetryConfig, type ViewsConfig } from '../src/config/telemetry-config.js';
import { buildViews } from '../src/views.js';

const views = (v: ViewsConfig) => buildViews(resolveTelemetryConfig({ env: {}, warn: () => undefined, views: v }).views);

describe('buildViews', () => {
  it('one view per catalog metric, each with the cardinality limit and the default aggregation', () => {
    const list = views({});
    expect(list).to.have.length(METRIC_CATALOG.length);
    expect(new Set(list.map((v) => v.instrumentName)).size).to.equal(METRIC_CATALOG.length);
    for (const v of list) {
      expect(v.aggregationCardinalityLimit).to.equal(1000);
      expect(v.aggregation).to.equal(undefined); // keeps the catalog's bucket advice
      expect(v.name).to.equal(undefined);
    }
  });

  it('renames, drops and sets boundaries only where asked, and appends extra views', () => {
    const list = views({
      rename: { 'tierkv.telemetry.export.failures': 'x.failures' },
      drop: ['tierkv.telemetry.callback.errors'],
      histogramBoundaries: { 'tierkv.telemetry.export.duration': [0.1, 1] },
      extra: [{ instrumentName: 'app.requests', aggregationCardinalityLimit: 5 }],
    });
    const by = (n: string) => list.find((v) => v.instrumentName === n)!;
    expect(by('tierkv.telemetry.export.failures').name).to.equal('x.failures');
    expect(by('tierkv.telemetry.callback.errors').aggregation).to.deep.equal({ type: AggregationType.DROP });
    expect(by('tierkv.telemetry.export.duration').aggregation).to.deep.equal({
      type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
      options: { boundaries: [0.1, 1] },
    });
    expect(list.at(-1)).to.deep.equal({ instrumentName: 'app.requests', aggregationCardinalityLimit: 5 });
  });
});
