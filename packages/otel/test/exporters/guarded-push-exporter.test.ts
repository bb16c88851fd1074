import { expect } from 'chai';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { GuardedPushExporter } from '../../src/exporters/guarded-push-exporter.js';
import { ExportHealth } from '../../src/health/export-health.js';

/** An exporter whose exports stay pending until the test settles them. */
class HangingExporter implements PushMetricExporter {
  readonly pending: ((r: ExportResult) => void)[] = [];
  export(_m: ResourceMetrics, cb: (r: ExportResult) => void): void {
    this.pending.push(cb);
  }
  forceFlush = async (): Promise<void> => undefined;
  shutdown = async (): Promise<void> => undefined;
}

const METRICS = {} as ResourceMetrics;

describe('GuardedPushExporter', () => {
  let clock = 0;
  const setup = (maxInFlight = 2) => {
    clock = 0;
    const inner = new HangingExporter();
    const health = new ExportHealth();
    const warnings: string[] = [];
    const guard = new GuardedPushExporter(inner, {
      exporter: 'otlp',
      health,
      maxInFlight,
      abandonAfterMillis: 10_000,
      logIntervalMillis: 1000,
      warn: (m) => warnings.push(m),
      now: () => clock,
    });
    return { inner, health, warnings, guard };
  };

  it('fails fast beyond maxInFlight instead of queueing', () => {
    const { inner, health, guard } = setup(2);
    const results: ExportResult[] = [];
    for (let i = 0; i < 5; i++) guard.export(METRICS, (r) => results.push(r));
    expect(inner.pending).to.have.length(2);
    expect(guard.inFlight).to.equal(2);
    expect(results.map((r) => r.code)).to.deep.equal([ExportResultCode.FAILED, ExportResultCode.FAILED, ExportResultCode.FAILED]);
    expect(health.failures('otlp')).to.equal(3);
    inner.pending[0]!({ code: ExportResultCode.SUCCESS });
    expect(guard.inFlight).to.equal(1);
    expect(health.successes('otlp')).to.equal(1);
    expect(guard.maxInFlightSeen).to.equal(2);
  });

  it('abandons an export that never settles, freeing its slot', () => {
    const { inner, health, guard } = setup(1);
    guard.export(METRICS, () => undefined);
    clock = 20_000;
    guard.export(METRICS, () => undefined);
    expect(inner.pending).to.have.length(2);
    expect(guard.inFlight).to.equal(1);
    expect(health.failures('otlp')).to.equal(1);
    // A late result of the abandoned export changes nothing.
    inner.pending[0]!({ code: ExportResultCode.SUCCESS });
    expect(health.successes('otlp')).to.equal(0);
    expect(guard.inFlight).to.equal(1);
  });

  it('logs failures at most once per interval, with the count since the last line', () => {
    const { inner, warnings, guard } = setup(10);
    const fail = () => {
      guard.export(METRICS, () => undefined);
      inner.pending.at(-1)!({ code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') });
    };
    fail();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('1 metric export to otlp failed').and.include('ECONNREFUSED');
    clock = 500;
    fail();
    fail();
    expect(warnings).to.have.length(1);
    clock = 1500;
    fail();
    expect(warnings).to.have.length(2);
    expect(warnings[1]).to.include('3 metric exports');
  });

  it('turns a throwing exporter into a counted failure', () => {
    const health = new ExportHealth();
    const guard = new GuardedPushExporter(
      { export: () => { throw new Error('boom'); }, forceFlush: async () => undefined, shutdown: async () => undefined },
      { exporter: 'custom', health, maxInFlight: 1, abandonAfterMillis: 1000, logIntervalMillis: 1000, warn: () => undefined },
    );
    let result: ExportResult | undefined;
    guard.export(METRICS, (r) => (result = r));
    expect(result?.code).to.equal(ExportResultCode.FAILED);
    expect(health.failures('custom')).to.equal(1);
    expect(guard.inFlight).to.equal(0);
  });
});
