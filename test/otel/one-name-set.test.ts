import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { translateOtlpExport } from '@tierkv/test-utils/otlp-to-prometheus';
import { parsePrometheusText, type PromExposition } from '@tierkv/test-utils/prometheus-text';
import { runServerAndController, type RunningStack } from './helpers/full-stack.js';
import { runStorageWorkload, type StorageWorkload } from './helpers/storage-workload.js';

/** A series by name and labels (values aside: the two reads happen at different moments). */
function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .filter((k) => !k.startsWith('otel_scope_') || k === 'otel_scope_name')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

function diff(a: ReadonlySet<string>, b: ReadonlySet<string>, aName: string, bName: string): string[] {
  return [...[...a].filter((k) => !b.has(k)).map((k) => `${k} only in ${aName}`), ...[...b].filter((k) => !a.has(k)).map((k) => `${k} only in ${bName}`)];
}

// Issue 13: the scrape and the OTLP route must give one set of names. The OTLP export of the same
// workload is rendered by the spec's OTLP → Prometheus translation (test-utils, written from the
// spec and Prometheus's receiver, sharing no code with the exporter); its series must be exactly
// the scrape's.
describe('one set of Prometheus names on the scrape and the OTLP route', function () {
  this.timeout(60_000);
  let receiver: OtlpReceiver;
  let handle: TelemetryHandle;
  let workload: StorageWorkload;
  let stack: RunningStack | undefined;
  let scrape: PromExposition;
  let scrapeBody: string;
  let fromOtlp: ReturnType<typeof translateOtlpExport>;

  before(async () => {
    metrics.disable();
    receiver = await startOtlpReceiver();
    handle = await startTelemetry({
      env: {},
      warn: () => undefined,
      serviceName: 'tierkv-one-name-set',
      exporters: ['prometheus', 'otlp'],
      prometheus: { port: 0 },
      otlp: { endpoint: receiver.url },
      exportIntervalMillis: 600_000,
    });
    workload = await runStorageWorkload();
    stack = await runServerAndController(workload.manager);
    // The first export records the exporter-health metrics; the scrape between the two exports
    // and the second export then hold the same metrics.
    await handle.forceFlush();
    scrapeBody = await (await fetch(handle.prometheusUrl!)).text();
    scrape = parsePrometheusText(scrapeBody);
    await handle.forceFlush();
    expect(receiver.errors).to.deep.equal([]);
    expect(receiver.exports).to.have.length(2);
    fromOtlp = translateOtlpExport(receiver.exports[1]!.request, { scopeLabel: true });
  });

  after(async () => {
    await stack?.close();
    await workload?.close();
    await handle?.shutdown();
    await receiver?.close();
    metrics.disable();
  });

  it('carries the same metric names (every metric, not only the catalog)', () => {
    const scraped = new Set(scrape.samples.map((s) => s.name).filter((n) => n !== 'target_info'));
    const translated = new Set(fromOtlp.flatMap((f) => f.samples.map((s) => s.name)));
    expect(translated.size).to.be.greaterThan(100);
    expect(diff(scraped, translated, 'the scrape', 'the OTLP route')).to.deep.equal([]);
  });

  it('and the same series (name and labels)', () => {
    const scraped = new Set(scrape.samples.filter((s) => s.name !== 'target_info').map((s) => seriesKey(s.name, s.labels)));
    const translated = new Set(fromOtlp.flatMap((f) => f.samples.map((s) => seriesKey(s.name, s.labels))));
    expect(diff(scraped, translated, 'the scrape', 'the OTLP route')).to.deep.equal([]);
  });

  it('with the same metric types', () => {
    const differ = fromOtlp.filter((f) => scrape.types.get(f.name) !== f.type).map((f) => `${f.name}: scrape ${scrape.types.get(f.name)}, OTLP route ${f.type}`);
    expect(differ).to.deep.equal([]);
  });

  it('the issue\'s examples: unit suffixes, _total, _ratio, and no {unit} in any name', () => {
    const names = new Set(scrape.samples.map((s) => s.name));
    for (const n of [
      'tierkv_l1_memory_used_bytes',
      'tierkv_l2_operation_duration_seconds_bucket',
      'tierkv_server_sent_bytes_total',
      'tierkv_l2_stored_total',
      'tierkv_controller_kv_pool_keys',
      'tierkv_controller_full_sync_progress_ratio',
    ]) {
      expect(names.has(n), n).to.equal(true);
    }
    for (const n of ['tierkv_l1_memory_used', 'tierkv_l2_operation_duration_bucket', 'tierkv_server_sent_total']) expect(names.has(n), n).to.equal(false);
    expect(scrapeBody).to.not.match(/\{chunk\}|\{request\}/);
  });
});
