import { expect } from 'chai';
import { SpanKind, trace } from '@opentelemetry/api';
import { Dealer } from 'zeromq';
import { MemoryLayout } from '@tierkv/core';
import { TierkvClient, TierkvServer } from '@tierkv/server';
import { StorageManager } from '@tierkv/storage';
import { createTestTracerProvider, type TestTracerProvider } from '@tierkv/test-utils';
import { key } from './helpers.js';
import { decodeHeaderForTest, request } from './wire.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('server/TierkvServer spans (injected TracerProvider)', function () {
  this.timeout(20_000);
  let t: TestTracerProvider;
  let server: TierkvServer;
  let raw: Dealer;

  before(async () => {
    trace.disable();
    t = createTestTracerProvider();
    server = new TierkvServer({ storage: new StorageManager({ l1: { capacityBytes: 1 << 20 }, tracerProvider: t.tracerProvider }), port: 0, httpPort: null, tracerProvider: t.tracerProvider });
    await server.start();
    raw = new Dealer({ linger: 0 });
    raw.connect(server.endpoint);
  });

  after(async () => {
    raw?.close();
    await server?.shutdown(1_000);
  });

  async function call(id: number, header: object): Promise<Record<string, unknown>> {
    await raw.send(request(id, header));
    const [, h] = await raw.receive();
    return decodeHeaderForTest(h!);
  }

  it('continues a valid traceparent from the header', async () => {
    t.exporter.reset();
    const reply = await call(1, { type: 'ping', traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'v=1' });
    expect(reply['ok']).to.equal(true);
    const s = t.span('tierkv.server ping');
    expect(s.kind).to.equal(SpanKind.SERVER);
    expect(s.spanContext().traceId).to.equal(TRACE);
    expect(s.parentSpanContext?.spanId).to.equal(SPAN);
    expect(s.spanContext().traceState?.get('v')).to.equal('1');
  });

  for (const [why, fields] of [
    ['garbage', { traceparent: 'not-a-traceparent' }],
    ['a number', { traceparent: 12 }],
    ['too long', { traceparent: `00-${TRACE}-${SPAN}-01`.padEnd(300, 'x') }],
    ['all-zero ids', { traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }],
  ] as const) {
    it(`ignores a malformed traceparent (${why}): the request succeeds with a root span`, async () => {
      t.exporter.reset();
      const reply = await call(2, { type: 'ping', ...fields });
      expect(reply['ok']).to.equal(true);
      const s = t.span('tierkv.server ping');
      expect(s.parentSpanContext).to.equal(undefined);
    });
  }

  it('records the outcome and key count of a failed request, with ERROR status and the wire code', async () => {
    t.exporter.reset();
    const reply = await call(3, { type: 'retrieve', keys: ['bad key'], layout: 'uint8[16]' });
    expect(reply['ok']).to.equal(false);
    const s = t.span('tierkv.server retrieve');
    expect(s.attributes).to.include({ 'tierkv.request.type': 'retrieve', 'tierkv.request.outcome': 'client_error', 'error.type': 'BAD_REQUEST' });
  });

  it('a client without a provider sends no trace fields, and one with a provider links the server span to its own', async () => {
    const layout = new MemoryLayout([[16]], ['uint8']);
    const plain = new TierkvClient({ endpoint: server.endpoint, layout });
    const clientTracer = createTestTracerProvider();
    const traced = new TierkvClient({ endpoint: server.endpoint, layout, tracerProvider: clientTracer.tracerProvider });
    try {
      t.exporter.reset();
      await plain.lookup([key(1)], { prefetch: false });
      expect(t.span('tierkv.server lookup').parentSpanContext).to.equal(undefined);
      t.exporter.reset();
      await traced.lookup([key(1)], { prefetch: false });
      const c = clientTracer.span('tierkv.client lookup');
      expect(c.kind).to.equal(SpanKind.CLIENT);
      expect(c.attributes).to.include({ 'tierkv.request.type': 'lookup', 'tierkv.keys.count': 1, 'server.address': '127.0.0.1' });
      const s = t.span('tierkv.server lookup');
      expect(s.parentSpanContext?.spanId).to.equal(c.spanContext().spanId);
      expect(s.spanContext().traceId).to.equal(c.spanContext().traceId);
      // The storage lookup: one span for the call, counts only.
      expect(t.span('tierkv.storage.lookup').attributes).to.include({ 'tierkv.keys.count': 1, 'tierkv.prefix.hits': 0 });
    } finally {
      plain.close();
      traced.close();
    }
  });
});

describe('server/TierkvServer spans over plain TCP (tierkv+tcp)', function () {
  this.timeout(20_000);

  it('carries the traceparent in the header as over ZeroMQ: the server span continues the client span', async () => {
    trace.disable();
    const t = createTestTracerProvider();
    const server = new TierkvServer({ storage: new StorageManager({ l1: { capacityBytes: 1 << 20 }, tracerProvider: t.tracerProvider }), port: 0, httpPort: null, transport: 'tcp', tracerProvider: t.tracerProvider });
    await server.start();
    const clientTracer = createTestTracerProvider();
    const layout = new MemoryLayout([[16]], ['uint8']);
    const traced = new TierkvClient({ endpoint: server.endpoint, layout, tracerProvider: clientTracer.tracerProvider });
    try {
      await traced.store([key(1)], [new Uint8Array(16).fill(5)]);
      t.exporter.reset();
      const got = await traced.retrieve([key(1)]);
      expect(got.chunks[0]).to.deep.equal(Buffer.alloc(16, 5));
      const c = clientTracer.span('tierkv.client retrieve');
      expect(c.attributes).to.include({ 'server.address': '127.0.0.1', 'server.port': Number(server.endpoint.split(':').pop()) });
      const s = t.span('tierkv.server retrieve');
      expect(s.parentSpanContext?.spanId).to.equal(c.spanContext().spanId);
      expect(s.spanContext().traceId).to.equal(c.spanContext().traceId);
      expect(s.attributes).to.include({ 'tierkv.request.outcome': 'ok' });
    } finally {
      traced.close();
      await server.shutdown(1_000);
    }
  });
});
