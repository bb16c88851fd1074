import { expect } from 'chai';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { waitFor } from '@tierkv/test-utils';
import { PrometheusEndpoint } from '../../src/exporters/prometheus.js';
import { resolveTelemetryConfig } from '../../src/config/telemetry-config.js';

/** A second reader collected by hand, standing in for the OTLP exporter's periodic reader. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe('prometheus endpoint nobody scrapes', () => {
  const config = resolveTelemetryConfig({ env: {}, exporters: ['prometheus'], prometheus: { preventServerStart: true }, warn: () => undefined }).prometheus;
  let provider: MeterProvider | undefined;
  let endpoint: PrometheusEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    await provider?.shutdown();
    provider = endpoint = undefined;
  });

  it('drains the collections it did not read, and the next scrape still has every cumulative value', async () => {
    endpoint = new PrometheusEndpoint(config, 5);
    const other = new ManualReader();
    provider = new MeterProvider({ readers: [endpoint.reader, other] });
    const counter = provider.getMeter('drain-test').createCounter('drain_test_ops');
    let total = 0;
    for (let i = 0; i < 50; i++) {
      counter.add(2, { kind: i % 2 === 0 ? 'a' : 'b' });
      total += 2;
      await other.collect();
    }
    await waitFor(() => endpoint!.drains >= 2, 'the unread endpoint to drain', 30_000);
    counter.add(1, { kind: 'a' });
    total += 1;
    const { body } = await endpoint.scrape();
    const values = [...body.matchAll(/^drain_test_ops(?:_total)?\{kind="(a|b)"[^}]*\} (\d+)/gm)].map((m) => Number(m[2]));
    expect(values.reduce((a, b) => a + b, 0)).to.equal(total);
  });
});
