import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { thrownBy } from '@tierkv/test-utils';
import { parseKeyValueList, readTelemetryEnv } from '../../src/config/env.js';

const configError = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

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
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include('OTEL_METRICS_EXPORTER').and.include('zipkin').and.include('prometheus, otlp, console, none');
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
    it('rejects grpc with the supported alternatives', () => {
      const err = configError(() => readTelemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' }));
      expect(err.field).to.equal('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL');
      expect(err.message).to.include('http/protobuf or http/json');
    });
    it('rejects an unknown protocol naming the variable it came from', () => {
      expect(configError(() => readTelemetryEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' })).field).to.equal('OTEL_EXPORTER_OTLP_PROTOCOL');
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
    it('rejects anything else, listing the allowed values', () => {
      const err = configError(() => readTelemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'weekly' }));
      expect(err.field).to.equal('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE');
      expect(err.message).to.include('cumulative, delta, lowmemory');
    });
  });

  for (const name of ['OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT']) {
    describe(name, () => {
      it('reads a whole number of milliseconds', () => {
        const env = readTelemetryEnv({ [name]: '1500' });
        expect(name.endsWith('INTERVAL') ? env.exportIntervalMillis : env.exportTimeoutMillis).to.equal(1500);
      });
      for (const bad of [...(name.endsWith('INTERVAL') ? ['0'] : []), '-5', '1.5', '10s', 'abc']) {
        it(`rejects "${bad}"`, () => {
          const err = configError(() => readTelemetryEnv({ [name]: bad }));
          expect(err.field).to.equal(name);
          expect(err.message).to.include('milliseconds');
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
      it(`rejects port "${bad}"`, () => {
        const err = configError(() => readTelemetryEnv({ OTEL_EXPORTER_PROMETHEUS_PORT: bad }));
        expect(err.field).to.equal('OTEL_EXPORTER_PROMETHEUS_PORT');
        expect(err.message).to.include('0 to 65535');
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
      expect(configError(() => readTelemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3s' })).field).to.equal('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT');
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
      expect(warnings.join('\n')).to.include('OTEL_RESOURCE_ATTRIBUTES').and.include('key=value');
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
        expect(warnings.join('\n')).to.include('OTEL_SDK_DISABLED').and.include('read as false');
      }
    });
  });

  it('parseKeyValueList skips empty members', () => {
    expect(parseKeyValueList('X', 'a=1,,b=2,')).to.deep.equal({ a: '1', b: '2' });
  });
});
