import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { freePort } from '@tierkv/test-utils';
import { otlpPoints, otlpResource, startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { startTelemetry, type TelemetryHandle } from '../../src/index.js';
import { TestModule } from '../helpers/test-module.js';

describe('otlp exporter', () => {
  before(() => metrics.disable()); // start from no global provider, whatever ran before
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

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`exports over ${protocol} with headers and resource, decoded with the official schema`, async () => {
      receiver = await startOtlpReceiver();
      handle = await startTelemetry({
        warn: () => undefined,
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test' },
        exporters: ['otlp'],
        serviceName: 'otlp-test',
        serviceInstanceId: 'instance-1',
        otlp: { endpoint: receiver.url, protocol },
      });
      mod = new TestModule();
      mod.work(0.004);
      mod.work(0.006);
      await handle.forceFlush();
      expect(receiver.errors).to.deep.equal([]);
      expect(receiver.exports).to.have.length(1);
      const [received] = receiver.exports;
      expect(received!.protocol).to.equal(protocol);
      expect(received!.headers['x-api-key']).to.equal('secret');
      expect(otlpResource(received!.request)).to.include({
        'service.name': 'otlp-test',
        'service.instance.id': 'instance-1',
        'deployment.environment': 'test',
        'telemetry.sdk.language': 'nodejs',
      });
      const points = otlpPoints(received!.request).filter((p) => p.scope === 'test-module');
      const counter = points.find((p) => p.metric === 'tierkv.telemetry.export.failures')!;
      expect(counter).to.include({ type: 'sum', monotonic: true, value: 2 });
      const hist = points.find((p) => p.metric === 'tierkv.telemetry.export.duration')!;
      expect(hist.value).to.equal(2);
      expect(hist.sum).to.be.closeTo(0.01, 1e-12);
      expect(hist.explicitBounds![0]).to.equal(0.00001);
      expect(handle.exportStatus()).to.deep.include({ exporter: 'otlp', successes: 1, failures: 0, inFlight: 0, maxInFlightSeen: 1 });
    });
  }

  it('delta temporality sends only the change since the last export', async () => {
    receiver = await startOtlpReceiver();
    handle = await startTelemetry({ warn: () => undefined, env: {}, exporters: ['otlp'], otlp: { endpoint: receiver.url, temporality: 'delta' } });
    mod = new TestModule();
    mod.work(0.001);
    await handle.forceFlush();
    mod.work(0.001);
    mod.work(0.001);
    await handle.forceFlush();
    const last = otlpPoints(receiver.exports[1]!.request).find((p) => p.scope === 'test-module' && p.metric === 'tierkv.telemetry.export.duration');
    expect(last?.value).to.equal(2);
  });

  it('the final export arrives on shutdown()', async () => {
    receiver = await startOtlpReceiver();
    handle = await startTelemetry({ warn: () => undefined, env: {}, exporters: ['otlp'], otlp: { endpoint: receiver.url }, exportIntervalMillis: 600_000 });
    mod = new TestModule();
    mod.work(0.5);
    expect(receiver.exports).to.have.length(0);
    await handle.shutdown();
    expect(receiver.exports).to.have.length(1);
    const hist = otlpPoints(receiver.exports[0]!.request).find((p) => p.scope === 'test-module' && p.metric === 'tierkv.telemetry.export.duration');
    expect(hist?.sum).to.equal(0.5);
  });

  it('an unreachable endpoint: no crash, work goes on, failures counted and logged once per interval, bounded in-flight', async () => {
    const closedPort = await freePort();
    const warnings: string[] = [];
    handle = await startTelemetry({
      warn: (m) => warnings.push(m),
      env: {},
      exporters: ['otlp', 'prometheus'],
      prometheus: { preventServerStart: true },
      otlp: { endpoint: `http://127.0.0.1:${closedPort}/v1/metrics`, maxInFlight: 2 },
      exportIntervalMillis: 50,
      exportTimeoutMillis: 40,
      failureLogIntervalMillis: 60_000,
    });
    mod = new TestModule();
    const heapBefore = process.memoryUsage().heapUsed;
    let ops = 0;
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      // The module's work is synchronous and never waits on the exporter.
      for (let i = 0; i < 1000; i++) mod.work(0.0001);
      ops += 1000;
      const status = handle.exportStatus().find((s) => s.exporter === 'otlp')!;
      expect(status.inFlight).to.be.at.most(2);
      await new Promise((r) => setTimeout(r, 10));
    }
    const status = handle.exportStatus().find((s) => s.exporter === 'otlp')!;
    expect(status.failures).to.be.greaterThan(3);
    expect(status.successes).to.equal(0);
    expect(status.maxInFlightSeen).to.be.at.most(2);
    expect(ops).to.be.greaterThan(0);
    // One log line for the whole run (the interval is a minute), carrying the reason.
    const otlpWarnings = warnings.filter((w) => w.includes('to otlp failed'));
    expect(otlpWarnings).to.have.length(1);
    expect(otlpWarnings[0]).to.match(/ECONNREFUSED|connect|fetch failed/i);
    // The failures are visible as a metric on the other exporter.
    const { body } = await handle.scrape();
    const line = body.split('\n').find((l) => l.startsWith('tierkv_telemetry_export_failures_total{tierkv_telemetry_exporter="otlp"'));
    expect(Number(line?.split(' ').at(-1))).to.be.greaterThan(3);
    // Loose sanity bound on memory: failed batches are not retained.
    expect(process.memoryUsage().heapUsed - heapBefore).to.be.lessThan(64 * 1024 * 1024);
    // shutdown() still resolves (its final export fails and is counted).
    await handle.shutdown();
  });
});
