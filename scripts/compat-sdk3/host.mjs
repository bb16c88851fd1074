// A host service on the OpenTelemetry 3.x metrics SDK (and API 1.10) embedding tierkv, whose
// libraries were built against API 1.9 only: our metrics must arrive in the host's pipeline,
// through the global provider (also for a module created before the host registered it) and
// through a provider injected per module. Run by scripts/ci-extra.sh under Node 22 or 24:
//   node host.mjs <repo root>      (from a directory whose node_modules has the 3.x SDK)
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

const repo = process.argv[2];
if (!repo) throw new Error('usage: node host.mjs <tierkv repo root>');
const load = (pkg) => import(pathToFileURL(join(repo, 'packages', pkg, 'dist', 'index.js')).href);
const sdkVersion = JSON.parse(readFileSync(new URL('node_modules/@opentelemetry/sdk-metrics/package.json', import.meta.url), 'utf8')).version;

class InMemoryReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  async onForceFlush() {}
  async onShutdown() {}
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect();
  check(errors.length === 0, `collection errors: ${errors.map(String).join('; ')}`);
  const byName = new Map();
  for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) byName.set(m.descriptor.name, m);
  return byName;
}

function total(metric) {
  if (!metric) return undefined;
  let sum = 0;
  for (const dp of metric.dataPoints) sum += metric.dataPointType === DataPointType.HISTOGRAM ? dp.value.count : dp.value;
  return sum;
}

const core = await load('core');
const { StorageManager, MemoryL2Adapter } = await load('storage');
const layout = core.MemoryLayout.bytes(1024);
const keys = (from, n) => Array.from({ length: n }, (_, i) => core.objectKey((from + i).toString(16).padStart(16, '0'), 'compat-model'));

async function workload(manager, from) {
  const ks = keys(from, 8);
  const objs = manager.reserveWrite(ks, layout);
  objs.forEach((o) => o?.data.fill(7));
  manager.finishWrite(ks);
  await manager.flush();
  const handle = manager.submitPrefetch(ks, layout);
  const ready = await manager.waitPrefetch(handle);
  const prefix = ks.slice(0, ready);
  if (prefix.length && manager.readPrefetched(prefix)) manager.finishReadPrefetched(prefix);
}

// 1. A module created before the host registers its SDK (late binding).
const early = new StorageManager({ l1: { capacityBytes: 64 * 1024 }, l2: [new MemoryL2Adapter()] });

// 2. The host registers its 3.x provider globally.
const reader = new InMemoryReader();
const provider = new MeterProvider({ readers: [reader] });
check(metrics.setGlobalMeterProvider(provider), 'the host could not register its global MeterProvider');
core.refreshTelemetryBindings();

// 3. A module created after, and a module with a provider injected (a second 3.x provider).
const late = new StorageManager({ l1: { capacityBytes: 64 * 1024 } });
const injectedReader = new InMemoryReader();
const injectedProvider = new MeterProvider({ readers: [injectedReader] });
const injected = new StorageManager({ l1: { capacityBytes: 64 * 1024 }, meterProvider: injectedProvider });

await workload(early, 0);
await workload(late, 100);
await workload(injected, 200);

const global = await collect(reader);
const tierkvNames = [...global.keys()].filter((n) => n.startsWith('tierkv.'));
check(tierkvNames.length >= 10, `only ${tierkvNames.length} tierkv metrics reached the host: ${tierkvNames.join(', ')}`);
check(total(global.get('tierkv.storage.write.succeeded_keys')) === 16, `tierkv.storage.write.succeeded_keys = ${total(global.get('tierkv.storage.write.succeeded_keys'))}, expected 16 (early + late managers)`);
check(total(global.get('tierkv.l2.stored')) === 8, `tierkv.l2.stored = ${total(global.get('tierkv.l2.stored'))}, expected 8 (the early manager's L2)`);
const hist = global.get('tierkv.l1.batch.duration');
check(hist !== undefined && total(hist) > 0, 'tierkv.l1.batch.duration has no data');
const bounds = hist?.dataPoints[0]?.value.buckets.boundaries ?? [];
check(JSON.stringify(bounds) === JSON.stringify(core.LATENCY_BOUNDARIES_S), `histogram boundaries ${JSON.stringify(bounds)} are not the catalog's advice`);

const own = await collect(injectedReader);
check(total(own.get('tierkv.storage.write.succeeded_keys')) === 8, `injected provider: tierkv.storage.write.succeeded_keys = ${total(own.get('tierkv.storage.write.succeeded_keys'))}, expected 8`);

for (const m of [early, late, injected]) await m.close();
await provider.shutdown();
await injectedProvider.shutdown();

const summary = { node: process.version, sdkMetrics: sdkVersion, tierkvMetrics: tierkvNames.length, failures };
console.log(JSON.stringify(summary));
process.exitCode = failures.length === 0 ? 0 : 1;
