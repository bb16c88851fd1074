import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { DEFAULT_TELEMETRY_OPTIONS, resolveTelemetryConfig } from '../../src/config/telemetry-config.js';

const quiet = { warn: () => undefined };

describe('resolveTelemetryConfig', () => {
  it('defaults: Prometheus on 127.0.0.1:9464, 60 s interval, 30 s timeout, cumulative protobuf', () => {
    const c = resolveTelemetryConfig({ env: {}, ...quiet });
    expect(c.exporters).to.deep.equal(['prometheus']);
    expect(c.prometheus.host).to.equal('127.0.0.1');
    expect(c.prometheus.port).to.equal(9464);
    expect(c.exportIntervalMillis).to.equal(60_000);
    expect(c.exportTimeoutMillis).to.equal(30_000);
    expect(c.otlp.protocol).to.equal('http/protobuf');
    expect(c.otlp.temporality).to.equal('cumulative');
    expect(c.views.cardinalityLimit).to.equal(DEFAULT_TELEMETRY_OPTIONS.cardinalityLimit);
    expect(c.disabled).to.equal(false);
  });

  it('adds OTLP by default when an endpoint is configured', () => {
    const c = resolveTelemetryConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, ...quiet });
    expect(c.exporters).to.deep.equal(['prometheus', 'otlp']);
    expect(c.otlp.endpoint).to.equal('http://c:4318/v1/metrics');
  });

  it('options win over the environment', () => {
    const c = resolveTelemetryConfig({
      env: {
        OTEL_METRICS_EXPORTER: 'console',
        OTEL_SERVICE_NAME: 'from-env',
        OTEL_EXPORTER_PROMETHEUS_PORT: '9100',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'a=env,b=env',
        OTEL_METRIC_EXPORT_INTERVAL: '5000',
        OTEL_SDK_DISABLED: 'true',
        OTEL_RESOURCE_ATTRIBUTES: 'x=env,y=env',
      },
      exporters: ['otlp'],
      serviceName: 'from-option',
      prometheus: { port: 0 },
      otlp: { protocol: 'http/protobuf', headers: { b: 'opt' } },
      exportIntervalMillis: 2000,
      disabled: false,
      resourceAttributes: { y: 'opt' },
      ...quiet,
    });
    expect(c.exporters).to.deep.equal(['otlp']);
    expect(c.serviceName).to.equal('from-option');
    expect(c.prometheus.port).to.equal(0);
    expect(c.otlp.protocol).to.equal('http/protobuf');
    expect(c.otlp.headers).to.deep.equal({ a: 'env', b: 'opt' });
    expect(c.exportIntervalMillis).to.equal(2000);
    expect(c.exportTimeoutMillis).to.equal(2000, 'the default timeout shrinks to the interval');
    expect(c.disabled).to.equal(false);
    expect(c.resourceAttributes).to.deep.equal({ x: 'env', y: 'opt' });
  });

  it('the environment is used when no option is given', () => {
    const c = resolveTelemetryConfig({
      env: { OTEL_METRICS_EXPORTER: 'otlp,console', OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '1000', OTEL_EXPORTER_PROMETHEUS_HOST: '::1' },
      ...quiet,
    });
    expect(c.exporters).to.deep.equal(['otlp', 'console']);
    expect(c.exportTimeoutMillis).to.equal(1000);
    expect(c.prometheus.host).to.equal('::1');
  });

  it('a name listed twice is attached once', () => {
    expect(resolveTelemetryConfig({ env: {}, exporters: ['prometheus', 'otlp', 'prometheus'], ...quiet }).exporters).to.deep.equal(['prometheus', 'otlp']);
  });

  it('none yields no exporters', () => {
    expect(resolveTelemetryConfig({ env: { OTEL_METRICS_EXPORTER: 'none' }, ...quiet }).exporters).to.deep.equal([]);
  });

  it('rejects a timeout longer than the interval, naming both', () => {
    expect(() => resolveTelemetryConfig({ env: { OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' }, ...quiet }))
      .to.throw(ConfigError, /OTEL_METRIC_EXPORT_TIMEOUT.*OTEL_METRIC_EXPORT_INTERVAL/);
    expect(() => resolveTelemetryConfig({ env: {}, exportIntervalMillis: 1000, exportTimeoutMillis: 5000, ...quiet }))
      .to.throw(ConfigError, /exportTimeoutMillis.*exportIntervalMillis/);
  });

  it('OTEL_METRIC_EXPORT_TIMEOUT=0 is no limit: the export interval is the only bound', () => {
    const c = resolveTelemetryConfig({ env: { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '0' }, ...quiet });
    expect(c.exportTimeoutMillis).to.equal(5000);
  });

  it('the OTLP request deadline follows OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT, capped by the export timeout', () => {
    expect(resolveTelemetryConfig({ env: { OTEL_EXPORTER_OTLP_TIMEOUT: '4000' }, ...quiet }).otlp.timeoutMillis).to.equal(4000);
    expect(resolveTelemetryConfig({ env: { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '90000' }, ...quiet }).otlp.timeoutMillis).to.equal(30_000);
    expect(resolveTelemetryConfig({ env: { OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, ...quiet }).otlp.timeoutMillis).to.equal(30_000);
    expect(resolveTelemetryConfig({ env: {}, otlp: { timeoutMillis: 1234 }, ...quiet }).otlp.timeoutMillis).to.equal(1234);
  });

  it('rejects malformed options with the option path', () => {
    const cases: [Parameters<typeof resolveTelemetryConfig>[0], RegExp][] = [
      [{ exporters: ['jaeger' as 'otlp'] }, /^exporters:/],
      [{ prometheus: { port: 70000 } }, /^prometheus\.port:/],
      [{ prometheus: { endpoint: 'metrics' } }, /^prometheus\.endpoint:/],
      [{ otlp: { endpoint: 'localhost:4318' } }, /^otlp\.endpoint:/],
      [{ otlp: { protocol: 'grpc' as 'http/json' } }, /^otlp\.protocol:/],
      [{ otlp: { temporality: 'sometimes' as 'delta' } }, /^otlp\.temporality:/],
      [{ exportIntervalMillis: 0 }, /^exportIntervalMillis:/],
      [{ views: { cardinalityLimit: -1 } }, /^views\.cardinalityLimit:/],
      [{ views: { drop: ['tierkv.no.such.metric'] } }, /^views\.drop:.*not a tierkv metric/],
      [{ views: { rename: { 'tierkv.telemetry.export.duration': '9bad' } } }, /^views\.rename:/],
      [{ views: { histogramBoundaries: { 'tierkv.telemetry.export.duration': [1, 0.5] } } }, /ascending/],
      [{ views: { histogramBoundaries: { 'tierkv.telemetry.export.failures': [1] } } }, /not a histogram/],
    ];
    for (const [options, pattern] of cases) {
      expect(() => resolveTelemetryConfig({ env: {}, ...quiet, ...options }), String(pattern)).to.throw(ConfigError, pattern);
    }
  });
});
