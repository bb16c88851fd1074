import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { createTestMeterProvider, freePort, valueOf } from '@tierkv/test-utils';
import { parsePrometheusText, promValue } from '@tierkv/test-utils/prometheus-text';
import { runStorageWorkload, type StorageWorkload } from './helpers/storage-workload.js';

// Storage modules with the real SDK around them: created before startTelemetry, inside a host
// that registered its own provider, and next to an OTLP endpoint that is down.
describe('storage metrics in the host process', function () {
  this.timeout(30_000);
  let workload: StorageWorkload | undefined;
  let handle: TelemetryHandle | undefined;
  beforeEach(() => metrics.disable());
  afterEach(async () => {
    await workload?.close();
    await handle?.shutdown();
    workload = handle = undefined;
    metrics.disable();
  });

  it('a StorageManager created before startTelemetry exports at once', async () => {
    workload = await runStorageWorkload();
    handle = await startTelemetry({ env: {}, warn: () => undefined, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    const exp = parsePrometheusText((await handle.scrape()).body);
    expect(promValue(exp, 'tierkv_storage_write_succeeded_keys_total')).to.equal(128);
    expect(promValue(exp, 'tierkv_l2_stored_total', { tierkv_l2_adapter: 'memory' })).to.be.greaterThan(0);
  });

  it('a host-registered provider receives storage metrics without startTelemetry', async () => {
    const host = createTestMeterProvider();
    metrics.setGlobalMeterProvider(host.meterProvider);
    try {
      workload = await runStorageWorkload();
      const rm = await host.collect();
      expect(valueOf(rm, 'tierkv.storage.write.succeeded_keys')).to.equal(128);
      expect(valueOf(rm, 'tierkv.l1.batch.duration')).to.be.greaterThan(0);
    } finally {
      await host.shutdown();
    }
  });

  it('an OTLP endpoint that is down neither fails nor blocks the storage workload', async () => {
    const closed = await freePort();
    const warnings: string[] = [];
    handle = await startTelemetry({
      env: {},
      warn: (m) => warnings.push(m),
      serviceName: 'otlp-down',
      exporters: ['prometheus', 'otlp'],
      prometheus: { preventServerStart: true },
      otlp: { endpoint: `http://127.0.0.1:${closed}/v1/metrics` },
      exportIntervalMillis: 20,
      exportTimeoutMillis: 20,
    });
    for (let i = 0; i < 3; i++) {
      await workload?.close();
      workload = await runStorageWorkload();
    }
    const status = handle.exportStatus().find((s) => s.exporter === 'otlp')!;
    expect(status.failures).to.be.greaterThan(0);
    expect(status.successes).to.equal(0);
    expect(status.maxInFlightSeen).to.be.at.most(2);
    expect(warnings.filter((w) => w.includes('to otlp failed'))).to.have.length(1);
    const exp = parsePrometheusText((await handle.scrape()).body);
    // Three workloads of 128 writes each: the two closed ones keep their counts (a counter never goes back).
    expect(promValue(exp, 'tierkv_storage_write_succeeded_keys_total')).to.equal(384);
    expect(promValue(exp, 'tierkv_telemetry_export_failures_total', { tierkv_telemetry_exporter: 'otlp' })).to.be.greaterThan(0);
  });
});
