import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ConfigError } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { parsePrometheusText, promValue } from '@tierkv/test-utils/prometheus-text';
import { startTelemetry, type TelemetryHandle } from '../src/index.js';
import { resetUnknownServiceWarning } from '../src/resource.js';
import { TestModule } from './helpers/test-module.js';

class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const quiet = { warn: () => undefined, env: {} };

describe('startTelemetry', () => {
  before(() => metrics.disable()); // start from no global provider, whatever ran before
  let handle: TelemetryHandle | undefined;
  const modules: TestModule[] = [];
  afterEach(async () => {
    for (const m of modules.splice(0)) m.close();
    await handle?.shutdown();
    handle = undefined;
    metrics.disable();
  });

  it('a module created before startTelemetry exports at once (late binding)', async () => {
    const mod = new TestModule();
    modules.push(mod);
    mod.work(0.1); // before: recorded into the no-op provider
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    mod.work(0.2);
    const exp = parsePrometheusText((await handle.scrape()).body);
    expect(promValue(exp, 'tierkv_telemetry_export_duration_seconds_sum', { otel_scope_name: 'test-module' })).to.equal(0.2);
    // Observable counts are plain numbers, so nothing from before the provider is lost.
    expect(promValue(exp, 'tierkv_telemetry_export_failures_total', { otel_scope_name: 'test-module' })).to.equal(2);
  });

  it('registers the global provider and unregisters it on shutdown', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['none'] });
    expect(metrics.getMeterProvider()).to.equal(handle.meterProvider);
    await handle.shutdown();
    expect(metrics.getMeterProvider()).to.not.equal(handle.meterProvider);
    await handle.shutdown(); // idempotent
  });

  it('a host-registered provider receives our metrics without startTelemetry', async () => {
    const host = createTestMeterProvider();
    metrics.setGlobalMeterProvider(host.meterProvider);
    try {
      const mod = new TestModule();
      modules.push(mod);
      mod.work(0.25);
      const rm = await host.collect();
      expect(valueOf(rm, 'tierkv.telemetry.export.failures', { 'tierkv.telemetry.exporter': 'custom' })).to.equal(1);
      expect(valueOf(rm, 'tierkv.telemetry.export.duration')).to.equal(1);
    } finally {
      await host.shutdown();
    }
  });

  it('a host that registered first gets a clear error from startTelemetry', async () => {
    const host = new MeterProvider();
    metrics.setGlobalMeterProvider(host);
    let err: unknown;
    try {
      handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { port: 0 } });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include('already registered');
    expect(metrics.getMeterProvider()).to.equal(host);
  });

  it('a provider injected per module (registerGlobal: false)', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true }, registerGlobal: false });
    const injected = new TestModule({ meterProvider: handle.meterProvider });
    const global = new TestModule();
    modules.push(injected, global);
    injected.work(0.3);
    global.work(0.3);
    const exp = parsePrometheusText((await handle.scrape()).body);
    expect(promValue(exp, 'tierkv_telemetry_export_duration_seconds_count', { otel_scope_name: 'test-module' })).to.equal(1);
  });

  it('takes the user’s MetricReader and PushMetricExporter beside the built-ins', async () => {
    const reader = new ManualReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    const push = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus', reader, push], prometheus: { preventServerStart: true } });
    expect(handle.exporters).to.deep.equal(['prometheus', 'custom-reader', 'custom-push']);
    const mod = new TestModule();
    modules.push(mod);
    mod.work(0.01);
    const { resourceMetrics } = await reader.collect();
    expect(valueOf(resourceMetrics, 'tierkv.telemetry.export.duration', { 'tierkv.telemetry.exporter': 'custom' })).to.equal(1);
    await handle.forceFlush();
    const pushed = push.getMetrics().at(-1)!;
    expect(valueOf(pushed, 'tierkv.telemetry.export.duration', { 'tierkv.telemetry.exporter': 'custom' })).to.equal(1);
    expect(handle.exportStatus()).to.deep.include({ exporter: 'custom', successes: 1, failures: 0, inFlight: 0, maxInFlightSeen: 1 });
  });

  it('counts a failing user exporter and never throws from forceFlush', async () => {
    const failing: PushMetricExporter = {
      export: (_m: ResourceMetrics, cb) => cb({ code: ExportResultCode.FAILED, error: new Error('collector said no') }),
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const warnings: string[] = [];
    handle = await startTelemetry({ warn: (m) => warnings.push(m), env: {}, serviceName: 's', exporters: [failing] });
    await handle.forceFlush();
    await handle.forceFlush();
    expect(handle.exportStatus()[0]).to.include({ exporter: 'custom', failures: 2 });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('collector said no');
  });

  it('views: rename, drop, custom boundaries and the cardinality limit', async () => {
    handle = await startTelemetry({
      ...quiet,
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      views: {
        rename: { 'tierkv.telemetry.export.failures': 'app.tierkv.failures' },
        drop: ['tierkv.telemetry.callback.errors'],
        histogramBoundaries: { 'tierkv.telemetry.export.duration': [0.5, 1] },
        cardinalityLimit: 2,
      },
    });
    const mod = new TestModule();
    modules.push(mod);
    mod.work(0.7);
    const body = (await handle.scrape()).body;
    const exp = parsePrometheusText(body);
    expect(promValue(exp, 'app_tierkv_failures_total')).to.equal(1);
    expect(promValue(exp, 'tierkv_telemetry_export_failures_total')).to.equal(undefined);
    expect(body).to.not.include('tierkv_telemetry_callback_errors');
    const les = exp.samples.filter((s) => s.name === 'tierkv_telemetry_export_duration_seconds_bucket').map((s) => s.labels['le']);
    expect(les).to.deep.equal(['0.5', '1', '+Inf']);
  });

  it('the cardinality limit folds extra attribute sets into an overflow series', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true }, views: { cardinalityLimit: 2 } });
    const h = handle.meterProvider.getMeter('x').createHistogram('tierkv.telemetry.export.duration', { unit: 's' });
    for (const outcome of ['a', 'b', 'c', 'd']) h.record(1, { outcome });
    const exp = parsePrometheusText((await handle.scrape()).body);
    const series = new Set(exp.samples.filter((s) => s.name === 'tierkv_telemetry_export_duration_seconds_count').map((s) => JSON.stringify(s.labels)));
    expect(series.size).to.equal(2);
    expect([...series].some((s) => s.includes('otel_metric_overflow'))).to.equal(true);
  });

  it('resource: service.name from the environment, service.instance.id always set, SDK defaults kept', async () => {
    const reader = new ManualReader();
    handle = await startTelemetry({ warn: () => undefined, env: { OTEL_SERVICE_NAME: 'env-svc' }, exporters: [reader] });
    const { resourceMetrics } = await reader.collect();
    const attrs = resourceMetrics.resource.attributes;
    expect(attrs['service.name']).to.equal('env-svc');
    expect(attrs['service.instance.id']).to.match(/^[0-9a-f-]{36}$/);
    expect(attrs['telemetry.sdk.name']).to.equal('opentelemetry');
  });

  it('warns once when service.name would be unknown_service', async () => {
    resetUnknownServiceWarning();
    const warnings: string[] = [];
    for (let i = 0; i < 2; i++) {
      const h = await startTelemetry({ warn: (m) => warnings.push(m), env: {}, exporters: ['none'] });
      await h.shutdown();
    }
    expect(warnings.filter((w) => w.includes('unknown_service'))).to.have.length(1);
    expect(warnings[0]).to.include('OTEL_SERVICE_NAME');
  });

  it('OTEL_SDK_DISABLED=true starts and registers nothing', async () => {
    handle = await startTelemetry({ warn: () => undefined, env: { OTEL_SDK_DISABLED: 'true' }, exporters: ['prometheus'] });
    expect(handle.exporters).to.deep.equal([]);
    expect(metrics.getMeterProvider()).to.not.equal(handle.meterProvider);
    expect((await handle.scrape()).body).to.include('disabled');
  });

  it('a malformed enum or number variable warns and falls back (the SDK spec); it does not reject', async () => {
    const warnings: string[] = [];
    handle = await startTelemetry({
      warn: (m) => warnings.push(m),
      serviceName: 'x',
      env: { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes', OTEL_SDK_DISABLED: '1', OTEL_METRIC_EXPORT_INTERVAL: '10s' },
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
    });
    expect(handle.config.otlp.temporality).to.equal('cumulative');
    expect(handle.config.exportIntervalMillis).to.equal(60_000);
    expect(handle.exporters).to.deep.equal(['prometheus']);
    expect(warnings).to.have.length(3);
  });

  it('a malformed URL variable rejects with a ConfigError naming it', async () => {
    await startTelemetry({ warn: () => undefined, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' } }).then(
      () => expect.fail('should reject'),
      (err: ConfigError) => {
        expect(err).to.be.instanceOf(ConfigError);
        expect(err.field).to.equal('OTEL_EXPORTER_OTLP_ENDPOINT');
      },
    );
  });

  it('the console exporter prints an export', async () => {
    const lines: unknown[] = [];
    const original = console.dir;
    console.dir = (x: unknown) => void lines.push(x);
    try {
      handle = await startTelemetry({ ...quiet, exporters: ['console'] });
      const mod = new TestModule();
      modules.push(mod);
      mod.work(0.1);
      await handle.forceFlush();
      await handle.shutdown(); // its final export prints too
    } finally {
      console.dir = original;
    }
    expect(JSON.stringify(lines)).to.include('tierkv.telemetry.export.duration');
  });
});
