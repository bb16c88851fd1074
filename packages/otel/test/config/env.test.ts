import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { thrownBy } from '@tierkv/test-utils';
import { parseKeyValueList, readTelemetryEnv } from '../../src/config/env.js';

const configError = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

/** Reads `env`, collecting the warnings. */
function withWarnings(env: Record<string, string>): { env: ReturnType<typeof readTelemetryEnv>; warnings: string[] } {
  const warnings: string[] = [];
  return { env: readTelemetryEnv(env, (m) => warnings.push(m)), warnings };
}

/** One warning naming the variable, the value and the fallback. */
function expectFallbackWarning(warnings: string[], name: string, value: string, instead: string): void {
  expect(warnings, warnings.join('\n')).to.have.length(1);
  expect(warnings[0]).to.include(`${name}="${value}"`).and.include(`using ${instead} instead`);
}

describe('readTelemetryEnv', () => {
  it('reads nothing from an empty environment', () => {
    const env = readTelemetryEnv({});
    expect(env.exporters).to.equal(undefined);
    expect(env.otlp.endpoint).to.equal(undefined);
    expect(env.disabled).to.equal(undefined);
  });

  it('treats empty and blank values as unset', () => {
    const env = readTelemetryEnv({ OTEL_METRICS_EXPORTER: '', OTEL_EXPORTER_PROMETHEUS_PORT: '  ' });
    expect(env.exporters).to.equal(undefined);
    expect(env.prometheus.port).to.equal(undefined);
  });

  describe('OTEL_METRICS_EXPORTER', () => {
    it('takes a comma-separated list, case-insensitive, deduplicated', () => {
      expect(readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'Prometheus, otlp,prometheus' }).exporters).to.deep.equal(['prometheus', 'otlp']);
    });
    it('maps the deprecated logging to console', () => {
      expect(readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'logging' }).exporters).to.deep.equal(['console']);
    });
    it('accepts none alone', () => {
      expect(readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'none' }).exporters).to.deep.equal(['none']);
    });
    it('warns about unknown names and skips them (the SDK spec), naming the variable and the known values', () => {
      const warnings: string[] = [];
      const env = readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'prometheus,zipkin' }, (m) => warnings.push(m));
      expect(env.exporters).to.deep.equal(['prometheus']);
      expectFallbackWarning(warnings, 'OTEL_METRICS_EXPORTER', 'prometheus,zipkin', 'prometheus');
      expect(warnings[0]).to.include('zipkin').and.include('prometheus, otlp, console, none');
    });
    it('a list of only unknown names is as if unset (the default exporters apply)', () => {
      const warnings: string[] = [];
      expect(readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'zipkin' }, (m) => warnings.push(m)).exporters).to.equal(undefined);
      expect(warnings).to.have.length(1);
    });
    it('rejects none combined with others', () => {
      expect(configError(() => readTelemetryEnv({ OTEL_METRICS_EXPORTER: 'none,otlp' })).message).to.include('none cannot be combined');
    });
    it('rejects a list of only commas', () => {
      expect(configError(() => readTelemetryEnv({ OTEL_METRICS_EXPORTER: ',,' })).field).to.equal('OTEL_METRICS_EXPORTER');
    });
  });

  describe('OTLP endpoint', () => {
    it('appends /v1/metrics to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
      const env = readTelemetryEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
      expect(env.otlp.endpoint).to.equal('http://collector:4318/v1/metrics');
      expect(env.otlp.endpointSource).to.equal('OTEL_EXPORTER_OTLP_ENDPOINT');
    });
    it('uses OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is, over the generic one', () => {
      const env = readTelemetryEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://b:443/custom/path',
      });
      expect(env.otlp.endpoint).to.equal('https://b:443/custom/path');
    });
    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']) {
      it(`rejects a malformed ${name}`, () => {
        expect(configError(() => readTelemetryEnv({ [name]: 'not a url' })).field).to.equal(name);
        expect(configError(() => readTelemetryEnv({ [name]: 'ftp://x:21' })).message).to.include('http');
      });
    }
  });

  describe('protocol', () => {
    it('reads OTEL_EXPORTER_OTLP_METRICS_PROTOCOL over OTEL_EXPORTER_OTLP_PROTOCOL', () => {
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }).otlp.protocol).to.equal('http/json');
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/JSON' }).otlp.protocol).to.equal('http/json');
    });
    it('grpc (not implemented) warns and falls back to http/protobuf', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' });
      expect(env.otlp.protocol).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'grpc', 'http/protobuf');
    });
    it('an unknown protocol warns naming the variable it came from, and falls back', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' });
      expect(env.otlp.protocol).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_PROTOCOL', 'http/xml', 'http/protobuf');
      expect(warnings[0]).to.include('http/protobuf, http/json');
    });
  });

  describe('headers', () => {
    it('merges OTEL_EXPORTER_OTLP_METRICS_HEADERS over OTEL_EXPORTER_OTLP_HEADERS, percent-decoded', () => {
      const env = readTelemetryEnv({
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc,x-tenant=one',
        OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=two%2Cthree, authorization=Bearer%20t',
      });
      expect(env.otlp.headers).to.deep.equal({ 'api-key': 'abc', 'x-tenant': 'two,three', authorization: 'Bearer t' });
    });
    for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS']) {
      it(`rejects a malformed ${name}`, () => {
        expect(configError(() => readTelemetryEnv({ [name]: 'novalue' })).field).to.equal(name);
        expect(configError(() => readTelemetryEnv({ [name]: '=v' })).message).to.include('key=value');
        expect(configError(() => readTelemetryEnv({ [name]: 'k=%zz' })).message).to.include('percent');
      });
    }
  });

  describe('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', () => {
    it('accepts cumulative, delta and lowmemory in any case', () => {
      for (const v of ['cumulative', 'DELTA', 'LowMemory']) {
        expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: v }).otlp.temporality).to.equal(v.toLowerCase());
      }
    });
    it('anything else warns, listing the allowed values, and falls back to cumulative', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'weekly' });
      expect(env.otlp.temporality).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'weekly', 'cumulative');
      expect(warnings[0]).to.include('cumulative, delta, lowmemory');
    });
  });

  for (const name of ['OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT']) {
    describe(name, () => {
      it('reads a whole number of milliseconds', () => {
        const env = readTelemetryEnv({ [name]: '1500' });
        expect(name.endsWith('INTERVAL') ? env.exportIntervalMillis : env.exportTimeoutMillis).to.equal(1500);
      });
      for (const bad of [...(name.endsWith('INTERVAL') ? ['0'] : []), '-5', '1.5', '10s', 'abc']) {
        it(`warns about "${bad}" and uses the default (the spec's rule for numbers)`, () => {
          const { env, warnings } = withWarnings({ [name]: bad });
          expect(name.endsWith('INTERVAL') ? env.exportIntervalMillis : env.exportTimeoutMillis).to.equal(undefined);
          expectFallbackWarning(warnings, name, bad, name.endsWith('INTERVAL') ? 'the default (60000)' : 'the default (30000, at most the interval)');
          expect(warnings[0]).to.include('milliseconds');
        });
      }
    });
  }

  describe('Prometheus host and port', () => {
    it('reads both', () => {
      const env = readTelemetryEnv({ OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '9100' });
      expect(env.prometheus).to.deep.equal({ host: '0.0.0.0', port: 9100 });
    });
    it('accepts port 0 (a free port)', () => {
      expect(readTelemetryEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: '0' }).prometheus.port).to.equal(0);
    });
    for (const bad of ['65536', 'http', '-1', '80.5']) {
      it(`warns about port "${bad}" and uses 9464`, () => {
        const { env, warnings } = withWarnings({ OTEL_EXPORTER_PROMETHEUS_PORT: bad });
        expect(env.prometheus.port).to.equal(undefined);
        expectFallbackWarning(warnings, 'OTEL_EXPORTER_PROMETHEUS_PORT', bad, 'the default (9464)');
        expect(warnings[0]).to.include('0 to 65535');
      });
    }
    it('rejects a host that is a URL', () => {
      expect(configError(() => readTelemetryEnv({ OTEL_EXPORTER_PROMETHEUS_HOST: 'http://x' })).field).to.equal('OTEL_EXPORTER_PROMETHEUS_HOST');
    });
  });

  describe('OTEL_METRIC_EXPORT_TIMEOUT=0 and the OTLP timeout variables', () => {
    it('reads 0 as no limit of its own', () => {
      expect(readTelemetryEnv({ OTEL_METRIC_EXPORT_TIMEOUT: '0' }).exportTimeoutMillis).to.equal(0);
    });
    it('reads OTEL_EXPORTER_OTLP_METRICS_TIMEOUT over OTEL_EXPORTER_OTLP_TIMEOUT', () => {
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000' }).otlp.timeoutMillis).to.equal(7000);
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '7000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000' }).otlp.timeoutMillis).to.equal(3000);
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }).otlp.timeoutMillis).to.equal(0);
    });
    it('a malformed OTLP timeout warns and falls back to the export timeout', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3s' });
      expect(env.otlp.timeoutMillis).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '3s', 'the export timeout');
    });
  });

  describe('service and resource', () => {
    it('reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', () => {
      const env = readTelemetryEnv({ OTEL_SERVICE_NAME: 'kv', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod, team=a%3Db' });
      expect(env.serviceName).to.equal('kv');
      expect(env.resourceAttributes).to.deep.equal({ 'deployment.environment': 'prod', team: 'a=b' });
    });
    it('discards a malformed OTEL_RESOURCE_ATTRIBUTES whole, with a warning (the resource SDK spec)', () => {
      const warnings: string[] = [];
      expect(readTelemetryEnv({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,b' }, (m) => warnings.push(m)).resourceAttributes).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_RESOURCE_ATTRIBUTES', 'a=1,b', 'no attributes from it');
      expect(warnings[0]).to.include('key=value');
    });
  });

  describe('OTEL_SDK_DISABLED', () => {
    it('reads true and false in any case', () => {
      expect(readTelemetryEnv({ OTEL_SDK_DISABLED: 'TRUE' }).disabled).to.equal(true);
      expect(readTelemetryEnv({ OTEL_SDK_DISABLED: 'false' }).disabled).to.equal(false);
    });
    it('reads anything else as false, with a warning (the SDK spec), e.g. 1 and yes', () => {
      for (const v of ['1', 'yes']) {
        const warnings: string[] = [];
        expect(readTelemetryEnv({ OTEL_SDK_DISABLED: v }, (m) => warnings.push(m)).disabled).to.equal(false);
        expectFallbackWarning(warnings, 'OTEL_SDK_DISABLED', v, 'false');
      }
    });
  });

  describe('OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION', () => {
    it('reads gzip and none, the metrics variable first', () => {
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' }).otlp.compression).to.equal('gzip');
      expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' }).otlp.compression).to.equal('none');
    });
    it('an unknown algorithm warns and falls back to none', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'zstd' });
      expect(env.otlp.compression).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'zstd', 'none');
    });
  });

  describe('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', () => {
    it('reads both spec values in any case', () => {
      for (const v of ['explicit_bucket_histogram', 'BASE2_EXPONENTIAL_BUCKET_HISTOGRAM']) {
        expect(readTelemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: v }).otlp.histogramAggregation).to.equal(v.toLowerCase());
      }
    });
    it('an unknown value warns and falls back to explicit_bucket_histogram', () => {
      const { env, warnings } = withWarnings({ OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'exponential' });
      expect(env.otlp.histogramAggregation).to.equal(undefined);
      expectFallbackWarning(warnings, 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION', 'exponential', 'explicit_bucket_histogram');
    });
  });

  describe('certificate and client key variables', () => {
    for (const [suffix, field] of [['CERTIFICATE', 'certificate'], ['CLIENT_CERTIFICATE', 'clientCertificate'], ['CLIENT_KEY', 'clientKey']] as const) {
      it(`OTEL_EXPORTER_OTLP_METRICS_${suffix} wins over OTEL_EXPORTER_OTLP_${suffix}`, () => {
        expect(readTelemetryEnv({ [`OTEL_EXPORTER_OTLP_${suffix}`]: 'a.pem' }).otlp[field]).to.deep.equal({ path: 'a.pem', source: `OTEL_EXPORTER_OTLP_${suffix}` });
        expect(readTelemetryEnv({ [`OTEL_EXPORTER_OTLP_${suffix}`]: 'a.pem', [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`]: 'b.pem' }).otlp[field])
          .to.deep.equal({ path: 'b.pem', source: `OTEL_EXPORTER_OTLP_METRICS_${suffix}` });
      });
    }
  });

  it('warns once per variable, however many are wrong', () => {
    const { warnings } = withWarnings({
      OTEL_SDK_DISABLED: 'yes',
      OTEL_METRICS_EXPORTER: 'zipkin,jaeger',
      OTEL_RESOURCE_ATTRIBUTES: 'a',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'br',
    });
    expect(warnings).to.have.length(5);
    for (const name of ['OTEL_SDK_DISABLED', 'OTEL_METRICS_EXPORTER', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_EXPORTER_OTLP_COMPRESSION']) {
      expect(warnings.filter((w) => w.includes(`${name}=`)), name).to.have.length(1);
    }
  });

  it('parseKeyValueList skips empty members', () => {
    expect(parseKeyValueList('X', 'a=1,,b=2,')).to.deep.equal({ a: '1', b: '2' });
  });
});
