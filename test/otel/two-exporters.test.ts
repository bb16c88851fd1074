import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { METRIC_CATALOG } from '@tierkv/core';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { otlpPoints, startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { parsePrometheusText } from '@tierkv/test-utils/prometheus-text';
import { diffSeries, metricNamesOf, otlpSeries, promSeries } from './helpers/compare-exports.js';
import { runStorageWorkload, type StorageWorkload } from './helpers/storage-workload.js';

// One storage workload per OTLP protocol, with Prometheus and OTLP attached at once: the OTLP
// export (decoded with the official .proto schema) and the Prometheus scrape (over HTTP) must
// carry the same catalog series with the same values.
for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`Prometheus and OTLP (${protocol}) on one workload`, function () {
    this.timeout(30_000);
    let receiver: OtlpReceiver;
    let handle: TelemetryHandle;
    let workload: StorageWorkload;
    let otlp: ReturnType<typeof otlpSeries>;
    let prom: ReturnType<typeof promSeries>;

    before(async () => {
      metrics.disable(); // a global provider another test leaked would make startTelemetry refuse
      receiver = await startOtlpReceiver();
      handle = await startTelemetry({
        env: {},
        warn: () => undefined,
        serviceName: 'tierkv-two-exporters',
        exporters: ['prometheus', 'otlp'],
        prometheus: { port: 0 },
        otlp: { endpoint: receiver.url, protocol },
        // Only explicit flushes export, so the OTLP and Prometheus reads see the same quiet state.
        exportIntervalMillis: 600_000,
      });
      workload = await runStorageWorkload();
      const scrape = async () => parsePrometheusText(await (await fetch(handle.prometheusUrl!)).text());
      const before = promSeries(await scrape());
      await handle.forceFlush();
      prom = promSeries(await scrape());
      expect(diffSeries(before, prom, 'first scrape', 'second scrape'), 'the workload has settled').to.deep.equal([]);
      expect(receiver.errors).to.deep.equal([]);
      expect(receiver.exports).to.have.length(1);
      expect(receiver.exports[0]!.protocol).to.equal(protocol);
      otlp = otlpSeries(otlpPoints(receiver.exports[0]!.request));
    });

    after(async () => {
      await workload?.close();
      await handle?.shutdown();
      await receiver?.close();
      metrics.disable();
    });

    it('the workload produced metrics of L1, L2 and the storage manager', () => {
      const names = [...metricNamesOf(otlp)];
      for (const prefix of ['tierkv.l1.', 'tierkv.l2.', 'tierkv.storage.']) {
        expect(names.some((n) => n.startsWith(prefix)), `${prefix}* in the OTLP export`).to.equal(true);
      }
    });

    it('every tierkv metric exported is in the catalog', () => {
      const catalog = new Set(METRIC_CATALOG.map((d) => d.name));
      const unknown = otlpPoints(receiver.exports[0]!.request)
        .map((p) => p.metric)
        .filter((n) => n.startsWith('tierkv.') && !catalog.has(n));
      expect([...new Set(unknown)]).to.deep.equal([]);
    });

    it('every catalog metric the workload produced appears on both paths', () => {
      expect([...metricNamesOf(prom)].sort()).to.deep.equal([...metricNamesOf(otlp)].sort());
    });

    it('with the same series and values (counters, gauges, histogram count, sum and buckets)', () => {
      expect(otlp.size).to.be.greaterThan(20);
      expect(diffSeries(otlp, prom, 'OTLP', 'Prometheus')).to.deep.equal([]);
    });
  });
}
