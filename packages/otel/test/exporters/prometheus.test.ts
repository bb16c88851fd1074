import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { ConfigError } from '@tierkv/core';
import { freePort } from '@tierkv/test-utils';
import { parsePrometheusText, promValue } from '@tierkv/test-utils/prometheus-text';
import { startTelemetry, PROMETHEUS_CONTENT_TYPE, type TelemetryHandle } from '../../src/index.js';
import { TestModule } from '../helpers/test-module.js';

const quiet = { warn: () => undefined, env: {} };

describe('prometheus exporter', () => {
  before(() => metrics.disable()); // start from no global provider, whatever ran before
  let handle: TelemetryHandle | undefined;
  let mod: TestModule | undefined;
  afterEach(async () => {
    mod?.close();
    await handle?.shutdown();
    handle = mod = undefined;
    metrics.disable();
  });

  it('serves the exposition on 127.0.0.1 at /metrics, same as scrape()', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { port: 0 }, serviceName: 'prom-test' });
    mod = new TestModule();
    mod.work(0.002);
    expect(handle.prometheusUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(handle.prometheusUrl!);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal(PROMETHEUS_CONTENT_TYPE);
    const http = parsePrometheusText(await res.text());
    const direct = parsePrometheusText((await handle.scrape()).body);
    for (const exp of [http, direct]) {
      expect(promValue(exp, 'tierkv_telemetry_export_failures_total', { otel_scope_name: 'test-module' })).to.equal(1);
      expect(promValue(exp, 'tierkv_telemetry_export_duration_seconds_count', { tierkv_telemetry_export_outcome: 'success' })).to.equal(1);
      expect(promValue(exp, 'target_info', { service_name: 'prom-test' })).to.equal(1);
    }
    expect((await fetch(handle.prometheusUrl!.replace('/metrics', '/other'))).status).to.equal(404);
  });

  it('applies the catalog buckets (seconds, 10 µs to 10 s)', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    mod = new TestModule();
    mod.work(0.00003);
    const exp = parsePrometheusText((await handle.scrape()).body);
    const les = exp.samples.filter((s) => s.name === 'tierkv_telemetry_export_duration_seconds_bucket' && s.labels['otel_scope_name'] === 'test-module').map((s) => s.labels['le']);
    expect(les[0]).to.equal('0.00001');
    expect(les).to.include('10').and.include('+Inf');
    expect(promValue(exp, 'tierkv_telemetry_export_duration_seconds_bucket', { otel_scope_name: 'test-module', le: '0.00005' })).to.equal(1);
    expect(promValue(exp, 'tierkv_telemetry_export_duration_seconds_bucket', { otel_scope_name: 'test-module', le: '0.000025' })).to.equal(0);
  });

  it('names metrics by the OpenTelemetry → Prometheus rules: unit suffix, _total, _ratio (what OTLP routes produce)', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const m = handle.meterProvider.getMeter('naming');
    m.createCounter('app.sent', { unit: 'By' }).add(3);
    m.createCounter('app.chunks', { unit: '{chunk}' }).add(1);
    m.createCounter('app.total.reads', { unit: '{read}' }).add(1);
    m.createCounter('app.requests_total', { unit: '{request}' }).add(1);
    m.createCounter('app.bytes', { unit: 'By' }).add(1);
    m.createUpDownCounter('app.memory.used', { unit: 'By' }).add(5);
    m.createUpDownCounter('app.share', { unit: '1' }).add(1);
    m.createGauge('app.progress', { unit: '1' }).record(0.5);
    m.createGauge('app.fill_ratio', { unit: '1' }).record(0.5);
    m.createGauge('app.wait', { unit: 'ms' }).record(2);
    m.createGauge('app.rate', { unit: 'By/s' }).record(2);
    m.createGauge('app.plain').record(2);
    m.createHistogram('app.op.duration', { unit: 's' }).record(0.1);
    m.createHistogram('app.batch.size', { unit: '{chunk}' }).record(4);
    const body = (await handle.scrape()).body;
    const exp = parsePrometheusText(body);
    const names = new Set(exp.samples.filter((s) => s.labels['otel_scope_name'] === 'naming').map((s) => s.name));
    expect([...names].sort()).to.deep.equal(
      [
        'app_sent_bytes_total',
        'app_chunks_total',
        'app_reads_total',
        'app_requests_total',
        'app_bytes_total',
        'app_memory_used_bytes',
        'app_share',
        'app_progress_ratio',
        'app_fill_ratio',
        'app_wait_milliseconds',
        'app_rate_bytes_per_second',
        'app_plain',
        'app_op_duration_seconds_bucket',
        'app_op_duration_seconds_count',
        'app_op_duration_seconds_sum',
        'app_batch_size_bucket',
        'app_batch_size_count',
        'app_batch_size_sum',
      ].sort(),
    );
    expect(exp.types.get('app_sent_bytes_total')).to.equal('counter');
    expect(exp.types.get('app_op_duration_seconds')).to.equal('histogram');
    // The # UNIT comment carries the unit as the name's suffix has it, and nothing when there is none.
    expect(body).to.include('# UNIT app_memory_used_bytes bytes\n');
    expect(body).to.include('# UNIT app_rate_bytes_per_second bytes_per_second\n');
    expect(body).to.not.match(/# UNIT app_chunks_total/);
    expect(body).to.not.include('{chunk}');
  });

  it('rejects start when the port is in use, naming host and port', async () => {
    const port = await freePort();
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      let err: unknown;
      try {
        handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { port } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.include(`127.0.0.1:${port} is already in use`);
      // Nothing was registered: a retry on a free port works.
      expect(metrics.getMeterProvider().constructor.name).to.not.equal('MeterProvider');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { port: 0 } });
    expect(handle.prometheusUrl).to.be.a('string');
  });

  it('reads the port from OTEL_EXPORTER_PROMETHEUS_PORT', async () => {
    const port = await freePort();
    handle = await startTelemetry({ warn: () => undefined, env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(port) }, exporters: ['prometheus'] });
    expect(handle.prometheusUrl).to.equal(`http://127.0.0.1:${port}/metrics`);
  });

  it('serves /metrics on the host’s own HTTP server with metricsHandler (preventServerStart)', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    expect(handle.prometheusUrl).to.equal(undefined);
    mod = new TestModule();
    mod.work(0.01);
    const h = handle;
    const host: Server = createHttpServer((req, res) => {
      if (req.url === '/metrics') h.metricsHandler(req, res);
      else res.writeHead(200).end('app');
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    try {
      const port = (host.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.headers.get('content-type')).to.equal(PROMETHEUS_CONTENT_TYPE);
      expect(promValue(parsePrometheusText(await res.text()), 'tierkv_telemetry_export_failures_total', { tierkv_telemetry_exporter: 'custom' })).to.equal(1);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).to.equal(405);
    } finally {
      await new Promise((r) => host.close(r));
    }
  });

  it('scrape() without the prometheus exporter rejects with advice', async () => {
    handle = await startTelemetry({ ...quiet, exporters: ['none'] });
    await handle.scrape().then(
      () => expect.fail('should reject'),
      (err: Error) => expect(err.message).to.include("needs the 'prometheus' exporter"),
    );
  });
});
