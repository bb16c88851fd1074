import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { encodeKey, MemoryLayout } from '@tierkv/core';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { startOtlpTraceReceiver, type OtlpSpan, type OtlpTraceReceiver } from '@tierkv/test-utils/otlp-receiver';
import { bytesFor, key, sameBytes, startStack, type Stack } from '../server/helpers.js';

const CHUNK = 4096;
const N = 4;

// One trace from a TierkvClient call through a real server (real sockets) to the StorageManager
// and a real filesystem L2, exported over OTLP (both encodings) and decoded with the official schema.
for (const protocol of ['http/protobuf', 'http/json'] as const) {
  describe(`traces end to end (${protocol})`, function () {
    this.timeout(30_000);
    let receiver: OtlpTraceReceiver;
    let handle: TelemetryHandle;
    let stack: Stack;
    let dir: string;
    let spans: OtlpSpan[];
    let rootTraceId: string;
    let rootSpanId: string;

    before(async () => {
      metrics.disable();
      trace.disable();
      context.disable();
      propagation.disable();
      receiver = await startOtlpTraceReceiver();
      handle = await startTelemetry({
        env: {},
        warn: () => undefined,
        serviceName: 'tierkv-traces-e2e',
        exporters: ['none'],
        traces: { exporters: ['otlp'], otlp: { endpoint: receiver.url, protocol }, sampler: { name: 'always_on' } },
      });
      expect(handle.traceExporters).to.deep.equal(['otlp']);
      dir = await mkdtemp(join(tmpdir(), 'tierkv-traces-'));
      stack = await startStack(dir, 1 << 20);
      const layout = new MemoryLayout([[CHUNK]], ['uint8']);
      const client = stack.client(layout);
      const keys = Array.from({ length: N }, (_, i) => key(i, 'traces-model'));
      const chunks = keys.map((_, i) => bytesFor(i, CHUNK));

      // The application's own span: every tierkv span below must land in its trace.
      const app = trace.getTracer('tierkv-test-app');
      await app.startActiveSpan('app request', async (root) => {
        rootTraceId = root.spanContext().traceId;
        rootSpanId = root.spanContext().spanId;
        const stored = await client.store(keys, chunks, { durability: 'l2' });
        expect(stored.stored).to.deep.equal(keys.map(() => true));
        // Only the L2 copy is left: the retrieve must load it (prefetch → L2 lookup and load).
        await client.clear();
        const got = await client.retrieve(keys);
        expect(got.chunks).to.have.length(N);
        got.chunks.forEach((c, i) => expect(sameBytes(c, chunks[i]!)).to.equal(true));
        root.end();
      });
      await handle.forceFlush();
      spans = await receiver.waitFor((all) => all.some((s) => s.name === 'app request') && all.some((s) => s.name === 'tierkv.l2 load'));
    });

    after(async () => {
      await stack?.close();
      await handle?.shutdown();
      await receiver?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const one = (name: string, parent?: OtlpSpan): OtlpSpan => {
      const found = spans.filter((s) => s.name === name && (parent === undefined || s.parentSpanId === parent.spanId));
      expect(found, `${name}${parent ? ` under ${parent.name}` : ''} in ${spans.map((s) => s.name).join(', ')}`).to.have.length(1);
      return found[0]!;
    };

    it('decodes every export with the official schema, in the asked encoding', () => {
      expect(receiver.errors).to.deep.equal([]);
      expect(receiver.exports.length).to.be.greaterThan(0);
      for (const e of receiver.exports) expect(e.protocol).to.equal(protocol);
    });

    it('puts every span in the one trace of the application span', () => {
      for (const s of spans) expect(s.traceId, s.name).to.equal(rootTraceId);
      expect(one('app request').spanId).to.equal(rootSpanId);
    });

    it('store: client → server (through traceparent) → one store span, reserve to commit → L2 store on the fs tier', () => {
      const root = one('app request');
      const client = one('tierkv.client store', root);
      expect(client.kind).to.equal('SPAN_KIND_CLIENT');
      expect(client.attributes).to.include({ 'tierkv.request.type': 'store', 'tierkv.request.outcome': 'ok', 'tierkv.keys.count': N });
      const server = one('tierkv.server store', client);
      expect(server.kind).to.equal('SPAN_KIND_SERVER');
      expect(server.scope).to.equal('@tierkv/server');
      expect(server.attributes).to.include({ 'tierkv.request.type': 'store', 'tierkv.keys.count': N, 'tierkv.request.outcome': 'ok' });
      // The owned reservation is one span from reserve to commit, not one per step.
      expect(spans.filter((s) => s.name === 'tierkv.storage.reserve' || s.name === 'tierkv.storage.commit')).to.deep.equal([]);
      const commit = one('tierkv.storage.store', server);
      expect(commit.attributes).to.include({
        'tierkv.keys.count': N,
        'tierkv.keys.reserved': N,
        'tierkv.keys.published': N,
        'tierkv.storage.durable': true,
        'tierkv.keys.durable': N,
        'tierkv.storage.temporary': false,
      });
      const store = one('tierkv.l2 store', commit);
      expect(store.attributes).to.include({ 'tierkv.l2.adapter': 'fs', 'tierkv.l2.operation': 'store', 'tierkv.keys.count': N, 'tierkv.keys.ok': N });
      // The durable commit's span lasts until its write-through's outcome is known: past the L2
      // store's start. (Its end and the L2 span's end are microseconds apart, in either order, so
      // comparing them would fail on a loaded machine.)
      expect(commit.endTimeUnixNano).to.be.greaterThan(store.startTimeUnixNano);
    });

    it('retrieve: client → server → prefetch → L2 lookup and load', () => {
      const root = one('app request');
      const server = one('tierkv.server retrieve', one('tierkv.client retrieve', root));
      const prefetch = one('tierkv.storage.prefetch', server);
      expect(prefetch.attributes).to.include({ 'tierkv.keys.count': N, 'tierkv.prefix.hits': N, 'tierkv.prefix.l1_hits': 0, 'tierkv.prefix.l2_hits': N });
      const lookup = spans.find((s) => s.name === 'tierkv.l2 lookup' && s.parentSpanId === prefetch.spanId);
      expect(lookup, 'an L2 lookup under the prefetch').to.not.equal(undefined);
      const loads = spans.filter((s) => s.name === 'tierkv.l2 load' && s.parentSpanId === prefetch.spanId);
      expect(loads.length).to.be.greaterThan(0);
      expect(loads.reduce((n, s) => n + Number(s.attributes['tierkv.keys.ok']), 0)).to.equal(N);
    });

    it('names no key, in span names or attributes (all bounded)', () => {
      const hashes = Array.from({ length: N }, (_, i) => key(i, 'traces-model').chunkHash);
      const encoded = Array.from({ length: N }, (_, i) => encodeKey(key(i, 'traces-model')));
      for (const s of spans) {
        const text = JSON.stringify([s.name, s.attributes]);
        for (const h of [...hashes, ...encoded, 'traces-model']) expect(text, s.name).to.not.include(h);
      }
    });

    it('ends spans with the OTel span kinds of their role', () => {
      const kinds = new Map(spans.map((s) => [s.name, s.kind]));
      expect(kinds.get('tierkv.storage.prefetch')).to.equal('SPAN_KIND_INTERNAL');
      expect(kinds.get('tierkv.l2 load')).to.equal('SPAN_KIND_INTERNAL');
    });
  });
}
