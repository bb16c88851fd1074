import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { readTelemetryEnv } from '@tierkv/otel';

const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');

/** The variables in the first column of the environment-variable table. */
function documentedVariables(): string[] {
  const section = doc.slice(doc.indexOf('## Environment variables'));
  const table = section.slice(0, section.indexOf('\n## '));
  const names: string[] = [];
  for (const line of table.split('\n')) {
    if (!line.startsWith('| `OTEL_')) continue;
    const firstCell = line.split('|')[1]!;
    names.push(...[...firstCell.matchAll(/`(OTEL_[A-Z_]+)`/g)].map((m) => m[1]!));
  }
  return names;
}

// A value that must change the configuration, for each variable the table lists.
const SAMPLES: Record<string, string> = {
  OTEL_SDK_DISABLED: 'true',
  OTEL_METRICS_EXPORTER: 'console',
  OTEL_SERVICE_NAME: 'svc',
  OTEL_RESOURCE_ATTRIBUTES: 'a=b',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/m',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_HEADERS: 'k=v',
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'k=v',
  OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
  OTEL_EXPORTER_OTLP_CERTIFICATE: 'ca.pem',
  OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: 'ca.pem',
  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: 'cert.pem',
  OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: 'cert.pem',
  OTEL_EXPORTER_OTLP_CLIENT_KEY: 'key.pem',
  OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: 'key.pem',
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
  OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
  OTEL_METRIC_EXPORT_INTERVAL: '1000',
  OTEL_METRIC_EXPORT_TIMEOUT: '0',
  OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '5000',
  OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
  OTEL_EXPORTER_PROMETHEUS_PORT: '9100',
};

describe('docs/observability.md: the OTEL_* table matches the code', () => {
  const documented = documentedVariables();
  const quiet = (): void => undefined;

  it('lists the variables', () => {
    expect(documented.length).to.be.greaterThan(20);
  });

  for (const name of documented) {
    it(`${name} is handled`, () => {
      expect(SAMPLES, `add a sample value for ${name}`).to.have.property(name);
      const warnings: string[] = [];
      const changed = readTelemetryEnv({ [name]: SAMPLES[name]! }, (m) => warnings.push(m));
      expect(changed).to.not.deep.equal(readTelemetryEnv({}, quiet));
      expect(warnings).to.deep.equal([]);
    });
  }

  it('every variable the code reads is listed', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_t, key) => {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    });
    readTelemetryEnv(env, quiet);
    expect([...read].filter((n) => !documented.includes(n))).to.deep.equal([]);
  });
});
