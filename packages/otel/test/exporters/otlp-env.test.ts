import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { ConfigError } from '@tierkv/core';
import { parsePrometheusText } from '@tierkv/test-utils/prometheus-text';
import { otlpPoints, startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { startTelemetry, type TelemetryHandle } from '../../src/index.js';
import { TestModule } from '../helpers/test-module.js';

// The OTLP variables the SDK exporter would read from process.env itself are passed through the
// `env` option here: these tests prove tierkv hands them to the exporter.
describe('otlp exporter: OTEL_* variables end to end', () => {
  before(() => metrics.disable());
  let handle: TelemetryHandle | undefined;
  let receiver: OtlpReceiver | undefined;
  let mod: TestModule | undefined;
  afterEach(async () => {
    mod?.close();
    await handle?.shutdown();
    await receiver?.close();
    handle = receiver = mod = undefined;
    metrics.disable();
  });

  async function exportOnce(env: Record<string, string>, protocol: 'http/protobuf' | 'http/json' = 'http/protobuf'): Promise<OtlpReceiver> {
    receiver = await startOtlpReceiver();
    handle = await startTelemetry({ warn: () => undefined, serviceName: 't', env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol, ...env }, exporters: ['otlp'] });
    mod = new TestModule();
    mod.work(0.004);
    await handle.forceFlush();
    expect(receiver.errors).to.deep.equal([]);
    expect(receiver.exports).to.have.length(1);
    return receiver;
  }

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses the ${protocol} body (decoded after gunzip)`, async () => {
      const r = await exportOnce({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, protocol);
      expect(r.exports[0]!.encoding).to.equal('gzip');
      expect(otlpPoints(r.exports[0]!.request).some((p) => p.metric === 'tierkv.telemetry.export.duration')).to.equal(true);
    });
  }

  it('OTEL_EXPORTER_OTLP_METRICS_COMPRESSION=none wins over the generic gzip', async () => {
    const r = await exportOnce({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' });
    expect(r.exports[0]!.encoding).to.equal('identity');
  });

  it('no compression variable: the body is sent uncompressed', async () => {
    const r = await exportOnce({});
    expect(r.exports[0]!.encoding).to.equal('identity');
  });

  it('an unreadable OTEL_EXPORTER_OTLP_CERTIFICATE rejects naming the variable and the path', async () => {
    const err = await startTelemetry({ warn: () => undefined, env: { OTEL_EXPORTER_OTLP_CERTIFICATE: '/no/such/ca.pem' }, exporters: ['otlp'] }).then(
      () => expect.fail('should reject'),
      (e: unknown) => e as ConfigError,
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.field).to.equal('OTEL_EXPORTER_OTLP_CERTIFICATE');
    expect(err.message).to.include('/no/such/ca.pem');
  });

  describe('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', () => {
    it('base2_exponential_bucket_histogram: OTLP gets exponential histograms, Prometheus keeps the catalog buckets', async () => {
      receiver = await startOtlpReceiver();
      handle = await startTelemetry({
        warn: () => undefined,
        serviceName: 't',
        env: { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' },
        exporters: ['otlp', 'prometheus'],
        prometheus: { preventServerStart: true },
      });
      expect(handle.config.views.histogramsPerReader).to.equal(true);
      mod = new TestModule();
      for (const s of [0.001, 0.002, 0.004, 0.5]) mod.work(s);
      await handle.forceFlush();
      expect(receiver.errors).to.deep.equal([]);
      const points = otlpPoints(receiver.exports[0]!.request).filter((p) => p.metric === 'tierkv.telemetry.export.duration' && p.scope === 'test-module');
      expect(points).to.have.length(1);
      expect(points[0]).to.include({ type: 'exponentialHistogram', value: 4 });
      expect(points[0]!.sum).to.be.closeTo(0.507, 1e-9);
      const prom = parsePrometheusText((await handle.scrape()).body);
      const buckets = prom.samples.filter((s) => s.name === 'tierkv_telemetry_export_duration_seconds_bucket' && s.labels['otel_scope_name'] === 'test-module');
      expect(buckets.map((b) => b.labels['le'])).to.include('0.00001').and.include('+Inf');
    });

    it('explicit_bucket_histogram (the default): OTLP gets the catalog buckets', async () => {
      const r = await exportOnce({ OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'explicit_bucket_histogram' });
      const p = otlpPoints(r.exports[0]!.request).find((x) => x.metric === 'tierkv.telemetry.export.duration' && x.scope === 'test-module');
      expect(p).to.include({ type: 'histogram' });
      expect(p!.explicitBounds![0]).to.equal(0.00001);
      expect(handle!.config.views.histogramsPerReader).to.equal(false);
    });

    it('exponential mode keeps the cardinality limit on both readers', async () => {
      receiver = await startOtlpReceiver();
      handle = await startTelemetry({
        warn: () => undefined,
        serviceName: 't',
        env: { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' },
        exporters: ['otlp', 'prometheus'],
        otlp: { endpoint: receiver.url },
        prometheus: { preventServerStart: true },
        views: { cardinalityLimit: 2 },
      });
      const h = handle.meterProvider.getMeter('x').createHistogram('tierkv.telemetry.export.duration', { unit: 's' });
      for (const outcome of ['a', 'b', 'c', 'd']) h.record(1, { outcome });
      await handle.forceFlush();
      const otlp = otlpPoints(receiver.exports[0]!.request).filter((p) => p.scope === 'x');
      expect(otlp).to.have.length(2);
      expect(otlp.every((p) => p.type === 'exponentialHistogram')).to.equal(true);
      const prom = parsePrometheusText((await handle.scrape()).body).samples.filter((s) => s.name === 'tierkv_telemetry_export_duration_seconds_count' && s.labels['otel_scope_name'] === 'x');
      expect(prom).to.have.length(2);
    });
  });
});
