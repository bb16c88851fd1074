import { expect } from 'chai';
import { metrics, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR, ATTRIBUTE_NAMES, METRIC_CATALOG, type AttributeName } from '@tierkv/core';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { otlpPoints, startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { hasBinary, RedisServer } from '@tierkv/test-utils/redis-server';
import { runServerAndController, type RunningStack } from './helpers/full-stack.js';
import { runStorageWorkload, type StorageWorkload } from './helpers/storage-workload.js';

// Issue 13: one attribute naming scheme. Every attribute name is declared once (ATTR in
// @tierkv/core); the catalog may only use declared names; two names may not stand for the same
// idea; and what a real workload exports (metrics and spans) uses exactly the declared names.

/** Values like `<configured host>` stand for an open but configuration-bounded set. */
const isPlaceholder = (v: string): boolean => v.startsWith('<') && v.endsWith('>');

/**
 * Pairs of names whose value sets share two or more values and are still different ideas. Any
 * other such pair fails the test: it is one idea under two names (as `operation` and
 * `tierkv.l2.operation` were), to be merged into one.
 */
const DISTINCT_IDEAS: Record<string, string> = {
  'tierkv.full_sync.outcome|tierkv.full_sync.state': 'how a finished sync ended vs where a worker is in one now',
  'tierkv.l2.operation|tierkv.request.type': 'an L2 adapter call vs an MP-mode wire request (a retrieve is several L2 calls)',
  'tierkv.reject.reason|tierkv.request.outcome': 'refused before a handler ran (not counted as a request) vs how a handled request ended',
  'tierkv.controller.drop.reason|tierkv.reject.reason': 'a controller frame dropped unanswered vs a server request refused with a reply',
};

const declared = new Set<string>(Object.values(ATTR));

function catalogValuesByName(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const def of METRIC_CATALOG) {
    for (const a of def.attributes) {
      const set = out.get(a.name) ?? new Set<string>();
      for (const v of a.values) if (!isPlaceholder(v)) set.add(v);
      out.set(a.name, set);
    }
  }
  return out;
}

describe('attribute names: one scheme, declared once', () => {

  it('every name is a registered semantic-convention attribute or a tierkv.-namespaced dotted name', () => {
    const bad: string[] = [];
    for (const name of declared) {
      const def = ATTRIBUTE_NAMES[name as AttributeName];
      if (!def) bad.push(`${name}: no entry in ATTRIBUTE_NAMES`);
      else if (def.semconv && name.startsWith('tierkv.')) bad.push(`${name}: marked semconv but tierkv-namespaced`);
      else if (!def.semconv && !/^tierkv(\.[a-z0-9_]+)+$/.test(name)) bad.push(`${name}: neither semconv nor tierkv.<dotted lowercase>`);
    }
    expect(Object.keys(ATTRIBUTE_NAMES).sort()).to.deep.equal([...declared].sort());
    expect(bad).to.deep.equal([]);
  });

  it('every metric of the catalog uses declared, metric-capable names only', () => {
    const bad: string[] = [];
    for (const def of METRIC_CATALOG) {
      for (const a of def.attributes) {
        if (!declared.has(a.name)) bad.push(`${def.name}: ${a.name} is not declared in ATTR (packages/core/src/telemetry/attribute-names.ts)`);
        else if (ATTRIBUTE_NAMES[a.name as AttributeName].spanOnly) bad.push(`${def.name}: ${a.name} is declared span-only (unbounded on a metric)`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('no idea has two names: attributes sharing two or more values are declared distinct, with a reason', () => {
    const byName = [...catalogValuesByName()];
    const suspects: string[] = [];
    for (let i = 0; i < byName.length; i++) {
      for (let j = i + 1; j < byName.length; j++) {
        const [a, av] = byName[i]!;
        const [b, bv] = byName[j]!;
        const shared = [...av].filter((v) => bv.has(v));
        const pair = [a, b].sort().join('|');
        if (shared.length >= 2 && !DISTINCT_IDEAS[pair]) suspects.push(`${pair} share ${shared.join(', ')}`);
      }
    }
    expect(suspects).to.deep.equal([]);
  });

  it('the check catches the old split (`operation` beside `tierkv.l2.operation`)', () => {
    const l2 = catalogValuesByName().get(ATTR.L2_OPERATION)!;
    const old = new Set(['store', 'load', 'lookup', 'unlock', 'delete', 'clear']);
    expect([...l2].filter((v) => old.has(v)).length).to.be.at.least(2);
  });
});

describe('attribute names: what a workload exports', function () {
  this.timeout(90_000);
  const redisAvailable = hasBinary('redis-server');
  let receiver: OtlpReceiver;
  let handle: TelemetryHandle;
  let workload: StorageWorkload;
  let stack: RunningStack | undefined;
  let redis: RedisServer | undefined;
  const spans = new InMemorySpanExporter();

  before(async () => {
    if (!redisAvailable && process.env['CI'] === 'true') throw new Error('redis-server not installed; CI must install it');
    metrics.disable();
    trace.disable();
    receiver = await startOtlpReceiver();
    handle = await startTelemetry({
      env: {},
      warn: () => undefined,
      serviceName: 'tierkv-attribute-names',
      exporters: ['otlp'],
      otlp: { endpoint: receiver.url },
      exportIntervalMillis: 600_000,
      traces: { spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] },
    });
    if (redisAvailable) redis = await RedisServer.start();
    workload = await runStorageWorkload(redis ? { redisUrl: redis.url } : {});
    stack = await runServerAndController(workload.manager);
    await handle.forceFlush();
    await handle.forceFlush(); // the second export carries the exporter-health metrics too
  });

  after(async () => {
    await stack?.close();
    await workload?.close();
    await handle?.shutdown();
    await receiver?.close();
    await redis?.stop();
    metrics.disable();
    trace.disable();
  });

  it('every exported metric attribute is one its catalog entry declares, with a declared value', () => {
    const catalog = new Map(METRIC_CATALOG.map((d) => [d.name, d]));
    const points = otlpPoints(receiver.exports.at(-1)!.request).filter((p) => catalog.has(p.metric));
    expect(points.length).to.be.greaterThan(100);
    const bad = new Set<string>();
    for (const p of points) {
      const attrs = new Map(catalog.get(p.metric)!.attributes.map((a) => [a.name, a.values]));
      for (const [k, v] of Object.entries(p.attributes)) {
        const values = attrs.get(k);
        if (!values) bad.add(`${p.metric}: ${k} not declared for this metric`);
        else if (!values.some(isPlaceholder) && !values.includes(String(v))) bad.add(`${p.metric}: ${k}=${String(v)} not among ${values.join(', ')}`);
      }
    }
    expect([...bad]).to.deep.equal([]);
    if (redis) expect(points.some((p) => p.metric === 'db.client.operation.duration')).to.equal(true);
  });

  it('every span attribute is a declared name', () => {
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => s.name)).to.include.members(['tierkv.server store', 'tierkv.storage.store', 'tierkv.l2 store']);
    const bad = new Set<string>();
    for (const s of finished) for (const k of Object.keys(s.attributes)) if (!declared.has(k)) bad.add(`${s.name}: ${k}`);
    expect([...bad]).to.deep.equal([]);
  });

});
