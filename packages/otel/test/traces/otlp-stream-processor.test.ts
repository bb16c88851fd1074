import { expect } from 'chai';
import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Link, type Tracer } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SamplingDecision, TracerProvider, type ReadableSpan, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { serveOtlpHttp } from '@tierkv/test-utils/otlp-http';
import { exportTraceRequestType } from '@tierkv/test-utils/otlp-receiver';
import { waitFor } from '@tierkv/test-utils/wait-for';
import { OtlpStreamSpanProcessor, type OtlpStreamSpanProcessorOptions } from '../../src/traces/otlp-stream-processor.js';

// Longs as strings: nanosecond timestamps exceed 2^53. Defaults on: a zero the SDK writes and we
// leave out decode alike (proto3 reads an absent field as its default).
const TO_OBJECT = { longs: String, enums: String, bytes: String, defaults: true, arrays: true, oneofs: true };

type Decoded = Record<string, unknown>;
interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly encoding: string;
  readonly request: { resourceSpans: Decoded[] };
}

/** A loopback OTLP/HTTP traces endpoint that decodes every protobuf body with the official schema. */
async function startReceiver() {
  const type = exportTraceRequestType();
  const requests: Received[] = [];
  const errors: Error[] = [];
  let status = 200;
  const endpoint = await serveOtlpHttp(
    '/v1/traces',
    ({ body, contentType, headers, encoding }) => {
      if (!contentType.startsWith('application/x-protobuf')) throw new Error(`content-type ${contentType}`);
      requests.push({ headers, encoding, request: type.toObject(type.decode(body), TO_OBJECT) as Received['request'] });
    },
    (err) => errors.push(err),
    () => status,
  );
  /** Every span, with the resource and scope it came under, sorted by span id. */
  const spans = () =>
    requests
      .flatMap((r) =>
        r.request.resourceSpans.flatMap((rs) =>
          (rs['scopeSpans'] as Decoded[]).flatMap((ss) =>
            (ss['spans'] as Decoded[]).map((span) => ({ resource: rs['resource'], resourceSchemaUrl: rs['schemaUrl'], scope: ss['scope'], scopeSchemaUrl: ss['schemaUrl'], span })),
          ),
        ),
      )
      .sort((a, b) => String(a.span['spanId']).localeCompare(String(b.span['spanId'])));
  const spansPerRequest = () => requests.map((r) => r.request.resourceSpans.reduce((n, rs) => n + (rs['scopeSpans'] as Decoded[]).reduce((m, ss) => m + (ss['spans'] as Decoded[]).length, 0), 0));
  const names = () => spans().map((s) => s.span['name'] as string);
  return { url: endpoint.url, requests, errors, spans, spansPerRequest, names, setStatus: (s: number) => void (status = s), close: () => endpoint.close() };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Samples everything but spans named `unsampled…`, which record (onEnd sees them) unsampled. */
const sampler: Sampler = {
  shouldSample: (_ctx, _traceId, name) => ({ decision: name.startsWith('unsampled') ? SamplingDecision.RECORD : SamplingDecision.RECORD_AND_SAMPLED }),
  toString: () => 'test',
};

const ALL_TYPES: Attributes = {
  'str': 'value',
  'str.empty': '',
  'str.utf8': 'naïve ☃ 日本 😀',
  'str.long': 'x'.repeat(20_000),
  'str.long.utf8': 'é'.repeat(300),
  'bool.true': true,
  'bool.false': false,
  'int.zero': 0,
  'int.small': 42,
  'int.neg': -5,
  'int.u32': 0xffffffff,
  'int.big': 2 ** 60,
  'int.min': -(2 ** 63),
  'int.too.big': 2 ** 63,
  'double': 0.1,
  'double.neg': -1234.5,
  'double.nan': NaN,
  'double.inf': Infinity,
  'arr.str': ['a', 'b', ''],
  'arr.str.null': ['a', null, 'b'],
  'arr.int': [1, -2, 3],
  'arr.double': [1.5, 2.25],
  'arr.bool': [true, false],
  'arr.empty': [],
};

function makeSpans(t: { a: Tracer; b: Tracer; c: Tracer; other: Tracer }): void {
  const root = t.a.startSpan('root', { kind: SpanKind.SERVER, attributes: ALL_TYPES, startTime: [1_700_000_000, 123_456_789] });
  const parent = trace.setSpan(ROOT_CONTEXT, root);
  const child = t.b.startSpan('child ✓', { kind: SpanKind.CLIENT }, parent);
  child.addEvent('plain');
  child.addEvent('with attributes', { 'e.s': 'x', 'e.n': 3, 'e.arr': [1.5, 2.5] }, [1_700_000_001, 5]);
  child.addEvent('too many attributes', { a: 1, b: 2, c: 3, d: 4 });
  child.recordException(new Error('boom'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke: ünïcode' });
  child.end([1_700_000_002, 999_999_999]);
  const remote: Context = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: 'abcdef0123456789abcdef0123456789',
    spanId: '0123456789abcdef',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=a,other=b'),
  });
  // Four links over a limit of three: the SDK drops the first.
  const links: Link[] = [
    { context: root.spanContext() },
    { context: child.spanContext(), attributes: { 'l.k': 'v', 'l.n': 1, 'l.extra': true } },
    { context: trace.getSpanContext(remote)! },
    { context: { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: TraceFlags.NONE, isRemote: true } },
  ];
  t.c.startSpan('remote child with links', { kind: SpanKind.CONSUMER, links }, remote).end();
  const many = t.a.startSpan('many', { kind: SpanKind.PRODUCER }, parent);
  for (let i = 0; i < 40; i++) many.setAttribute(`k${i}`, i);
  for (let i = 0; i < 7; i++) many.addEvent(`e${i}`);
  many.setStatus({ code: SpanStatusCode.OK });
  many.end();
  t.a.startSpan('n'.repeat(300) + ' long name').end();
  t.b.startSpan('unsampled child', {}, parent).end();
  t.b.startSpan('in 2128', { startTime: [5_000_000_000, 1] }).end([5_000_000_001, 0]);
  t.other.startSpan('other resource', { attributes: { 'o': 1 } }).end();
  t.other.startSpan('unsampled other').end();
  root.end();
}

describe('OtlpStreamSpanProcessor', function () {
  this.timeout(30_000);
  const receivers: Receiver[] = [];
  const processors: SpanProcessor[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const processor = (r: Receiver, options: Omit<OtlpStreamSpanProcessorOptions, 'otlp'> = {}, otlp: OtlpStreamSpanProcessorOptions['otlp'] = {}) => {
    const p = new OtlpStreamSpanProcessor({ ...options, otlp: { ...otlp, url: r.url } });
    processors.push(p);
    return p;
  };
  /** A provider whose spans go to `p` only, with no other batching in the way. */
  const tracerFor = (p: SpanProcessor) => new TracerProvider({ sampler, spanProcessors: [p] }).getTracer('t');
  const end = (tracer: Tracer, names: string[]) => names.forEach((n) => tracer.startSpan(n).end());
  afterEach(async () => {
    for (const p of processors.splice(0)) await p.shutdown().catch(() => undefined);
    for (const r of receivers.splice(0)) await r.close();
  });

  it('exports every shape of span as the SDK exporter does, decoded with the official schema', async () => {
    const ours = await receiver();
    const sdk = await receiver();
    const mine = processor(ours, {}, { headers: { 'x-api-key': 'secret' } });
    const theirs = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: sdk.url, headers: { 'x-api-key': 'secret' } }) });
    processors.push(theirs);
    const spanProcessors = [theirs, mine];
    const limits = { attributeCountLimit: 32, eventCountLimit: 5, linkCountLimit: 3, attributePerEventCountLimit: 3, attributePerLinkCountLimit: 2 };
    const p1 = new TracerProvider({
      sampler,
      spanLimits: limits,
      spanProcessors,
      resource: resourceFromAttributes({ 'service.name': 'stream-test', 'r.int': 7, 'r.arr': ['x', 'y'] }, { schemaUrl: 'https://opentelemetry.io/schemas/1.28.0' }),
    });
    // A second provider, with a resource whose attribute settles later: its spans form a second
    // ResourceSpans, sent once the attribute is known.
    const p2 = new TracerProvider({ sampler, spanProcessors, resource: resourceFromAttributes({ 'service.name': 'other', 'r.async': Promise.resolve('settled') }) });
    makeSpans({
      a: p1.getTracer('scope-a', '1.2.3'),
      b: p1.getTracer('scope-b'),
      c: p1.getTracer('scope-c', '0.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }),
      other: p2.getTracer('scope-a', '1.2.3'),
    });
    await Promise.all([theirs.forceFlush(), mine.forceFlush()]);
    expect(ours.errors).to.deep.equal([]);
    expect(sdk.errors).to.deep.equal([]);
    const expected = sdk.spans();
    const got = ours.spans();
    expect(expected.map((s) => s.span['name'])).to.have.length(7);
    expect(got.map((s) => s.span['name'])).to.deep.equal(expected.map((s) => s.span['name']));
    for (const [i, e] of expected.entries()) expect(got[i], String(e.span['name'])).to.deep.equal(e);
    // The shapes really were there (so the comparison compared something).
    const byName = new Map(got.map((s) => [s.span['name'] as string, s]));
    const root = byName.get('root')!.span;
    expect((root['attributes'] as unknown[]).length).to.equal(Object.keys(ALL_TYPES).length);
    expect(root['startTimeUnixNano']).to.equal('1700000000123456789');
    expect(byName.get('child ✓')!.span).to.deep.include({ kind: 'SPAN_KIND_CLIENT', parentSpanId: root['spanId'], status: { code: 'STATUS_CODE_ERROR', message: 'it broke: ünïcode' } });
    expect((byName.get('child ✓')!.span['events'] as Decoded[]).map((e) => e['droppedAttributesCount'])).to.deep.equal([0, 0, 1, 0]);
    expect(byName.get('many')!.span).to.deep.include({ droppedAttributesCount: 8, droppedEventsCount: 2 });
    const remote = byName.get('remote child with links')!.span;
    expect(remote).to.deep.include({ traceState: 'vendor=a,other=b', flags: 0x301, droppedLinksCount: 1 });
    expect((remote['links'] as Decoded[]).map((l) => [l['droppedAttributesCount'], l['flags']])).to.deep.equal([
      [1, 0x101],
      [0, 0x301],
      [0, 0x300],
    ]);
    expect(byName.get('in 2128')!.span['startTimeUnixNano']).to.equal('5000000000000000001');
    expect(byName.get('other resource')!.resource).to.deep.equal(expected.find((s) => s.span['name'] === 'other resource')!.resource);
    expect(JSON.stringify(byName.get('other resource')!.resource)).to.include('settled');
    expect(byName.get('root')!.resourceSchemaUrl).to.equal('https://opentelemetry.io/schemas/1.28.0');
    expect(byName.get('remote child with links')!.scopeSchemaUrl).to.equal('https://opentelemetry.io/schemas/1.30.0');
    // One request, grouped as the SDK groups: per resource, then per scope.
    expect(ours.requests).to.have.length(1);
    const shape = (r: Receiver) => r.requests[0]!.request.resourceSpans.map((rs) => (rs['scopeSpans'] as Decoded[]).map((ss) => (ss['scope'] as Decoded)['name']));
    expect(shape(ours)).to.deep.equal(shape(sdk));
    expect(shape(ours)).to.deep.equal([['scope-b', 'scope-c', 'scope-a'], ['scope-a']]); // in the order spans ended
    // The SDK's transport: the same headers (the user agent names the otlp-exporter-base version).
    for (const h of ['content-type', 'x-api-key']) expect(ours.requests[0]!.headers[h], h).to.equal(sdk.requests[0]!.headers[h]);
    expect(ours.requests[0]!.headers['user-agent']).to.match(/^OTel-OTLP-Exporter-JavaScript\/0\.2/);
  });

  it('exports a batch as soon as it is full, one request at a time', async () => {
    const r = await receiver();
    const p = processor(r, { maxExportBatchSize: 4, scheduledDelayMillis: 600_000 });
    end(tracerFor(p), Array.from({ length: 10 }, (_, i) => `s${i}`));
    // Two full batches go without a flush or a timer; the last two spans wait.
    await waitFor(() => r.requests.length >= 2, 'two full batches');
    expect(r.spansPerRequest()).to.deep.equal([4, 4]);
    expect(p.queuedSpans).to.equal(2);
    await p.forceFlush();
    expect(r.spansPerRequest()).to.deep.equal([4, 4, 2]);
    expect(r.names()).to.have.members(Array.from({ length: 10 }, (_, i) => `s${i}`));
    expect(p.stats).to.deep.equal({ exportedSpans: 10, failedExports: 0 });
  });

  it('exports a partial batch after scheduledDelayMillis', async () => {
    const r = await receiver();
    const p = processor(r, { scheduledDelayMillis: 20 });
    const tracer = tracerFor(p);
    end(tracer, ['t0', 't1', 't2']);
    expect(p.queuedSpans).to.equal(3);
    expect(r.requests).to.have.length(0);
    await waitFor(() => r.names().length === 3, 'the timer export');
    expect(r.spansPerRequest()).to.deep.equal([3]);
    // And again for spans ending after that export.
    end(tracer, ['t3']);
    await waitFor(() => r.names().length === 4, 'a second timer export');
    expect(p.queuedSpans).to.equal(0);
  });

  it('holds at most maxQueueSize spans not yet handed to an export: the rest are dropped and counted', async () => {
    const r = await receiver();
    const p = processor(r, { maxQueueSize: 4, maxExportBatchSize: 2, scheduledDelayMillis: 600_000 });
    // All in one turn: the first batch is in flight (not queued), two more fill the queue.
    end(tracerFor(p), Array.from({ length: 12 }, (_, i) => `q${i}`));
    expect(p.queuedSpans).to.equal(4);
    expect(p.droppedSpans).to.equal(6);
    await p.forceFlush();
    expect(r.names().sort()).to.deep.equal(['q0', 'q1', 'q2', 'q3', 'q4', 'q5']);
    expect(p.droppedSpans).to.equal(6);
  });

  it('forceFlush and shutdown export what is pending; shutdown is idempotent and ends the intake', async () => {
    const r = await receiver();
    const p = processor(r, { scheduledDelayMillis: 600_000 });
    const tracer = tracerFor(p);
    end(tracer, ['f0', 'f1']);
    await p.forceFlush();
    expect(r.names()).to.have.members(['f0', 'f1']);
    await p.forceFlush(); // nothing pending: no empty request
    expect(r.requests).to.have.length(1);
    end(tracer, ['d0', 'd1', 'd2']);
    const first = p.shutdown();
    expect(p.shutdown()).to.equal(first);
    await first;
    expect(r.names()).to.have.members(['f0', 'f1', 'd0', 'd1', 'd2']);
    end(tracer, ['late']);
    expect(p.queuedSpans).to.equal(0);
    await p.forceFlush();
    await p.shutdown();
    expect(r.requests).to.have.length(2);
  });

  it('an export failure never throws into span.end() and the processor keeps exporting', async () => {
    const r = await receiver();
    r.setStatus(400); // not retryable: fails at once
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const p = processor(r, { maxExportBatchSize: 1, scheduledDelayMillis: 600_000 });
      const tracer = tracerFor(p);
      // Each end starts an export (a batch of one) from inside span.end().
      expect(() => end(tracer, ['x0', 'x1'])).to.not.throw();
      await waitFor(() => p.stats.failedExports === 2, 'two failed exports');
      r.setStatus(200);
      end(tracer, ['ok']);
      await waitFor(() => p.stats.exportedSpans === 1, 'the export after recovery');
      expect(r.names()).to.include('ok');
      // forceFlush reports the failure of the export it started, as the SDK's processor does
      // (startTelemetry's handle.forceFlush logs it and resolves).
      const pf = processor(r, { scheduledDelayMillis: 600_000 });
      r.setStatus(400);
      tracerFor(pf).startSpan('flush-fail').end();
      let rejected: unknown;
      await pf.forceFlush().catch((err: unknown) => (rejected = err));
      expect(rejected).to.be.instanceOf(Error);
      expect(pf.stats.failedExports).to.equal(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('cuts off a span whose encoding throws, keeping the request well formed', async () => {
    const r = await receiver();
    const p = processor(r, { scheduledDelayMillis: 600_000 });
    let captured: ReadableSpan | undefined;
    const capture: SpanProcessor = { onStart: () => undefined, onEnd: (s) => void (captured = s), forceFlush: async () => undefined, shutdown: async () => undefined };
    const tracer = new TracerProvider({ spanProcessors: [capture, p] }).getTracer('t');
    end(tracer, ['before']);
    // Fails after its ids, name and attributes were written.
    const broken = Object.create(captured!, { events: { get: () => { throw new Error('no events'); } } }) as ReadableSpan;
    p.onEnd(broken);
    expect(p.droppedSpans).to.equal(1);
    end(tracer, ['after']);
    await p.forceFlush();
    expect(r.errors).to.deep.equal([]);
    expect(r.names().sort()).to.deep.equal(['after', 'before']);
  });

  it('sends through the SDK transport with its options (gzip here)', async () => {
    const r = await receiver();
    const p = processor(r, {}, { compression: CompressionAlgorithm.GZIP });
    end(tracerFor(p), ['g0', 'g1']);
    await p.forceFlush();
    expect(r.errors).to.deep.equal([]);
    expect(r.requests.map((q) => q.encoding)).to.deep.equal(['gzip']);
    expect(r.names().sort()).to.deep.equal(['g0', 'g1']);
  });

  it('refuses malformed settings with a ConfigError', () => {
    expect(() => new OtlpStreamSpanProcessor({ maxQueueSize: 0 })).to.throw(/maxQueueSize/);
    expect(() => new OtlpStreamSpanProcessor({ scheduledDelayMillis: 1.5 })).to.throw(/scheduledDelayMillis/);
  });
});
