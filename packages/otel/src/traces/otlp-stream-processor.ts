import { context, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing, type InstrumentationScope } from '@opentelemetry/core';
import type { IOtlpExportDelegate, OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, type IExporterMetricsHelper, type IExportTraceServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { debugLogger } from '@tierkv/core';
import { positiveInt } from '../config/positive-int.js';
import { assembleRequest, encodeResourceField, encodeScopeField, encodeSpan, type ScopeChunk } from './otlp-span-encoder.js';
import { ProtoWriter } from './proto-writer.js';

const log = debugLogger('tierkv:otel');

export interface OtlpStreamSpanProcessorOptions {
  /**
   * The OTLP/HTTP settings as the SDK's `OTLPTraceExporter` takes them (`url`, `headers`,
   * `timeoutMillis`, `compression`, `httpAgentOptions`, …). They go through the SDK's own
   * `convertLegacyHttpOptions`, so the `OTEL_EXPORTER_OTLP_[TRACES_]*` variables (headers,
   * compression, timeout, certificates) fill what is not given, exactly as for that exporter.
   */
  readonly otlp?: OTLPExporterNodeConfigBase;
  /** Spans per export request. @default 512 (at most maxQueueSize) */
  readonly maxExportBatchSize?: number;
  /** Spans encoded and not yet handed to an export; more are dropped and counted. @default 2048 */
  readonly maxQueueSize?: number;
  /** Longest a span waits before its batch is exported. @default 5000 */
  readonly scheduledDelayMillis?: number;
  /** After this long the next batch may go even if an export has not answered. @default 30000 */
  readonly exportTimeoutMillis?: number;
}

/** What the export delegate carries: one assembled ExportTraceServiceRequest. */
interface EncodedRequest {
  readonly bytes: Uint8Array;
  readonly spans: number;
}

/** The request is assembled before the delegate sees it; responses are read by the SDK's own decoder. */
const serializer: ISerializer<EncodedRequest, IExportTraceServiceResponse> = {
  serializeRequest: (request) => request.bytes,
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};
const metricsHelper: IExporterMetricsHelper<EncodedRequest> = { name: 'span', countItems: (request) => request.spans };

interface Batch {
  readonly chunks: ScopeChunk[];
  count: number;
}

/** Writers kept for reuse, and the largest one worth keeping. */
const POOL_SIZE = 8;
const POOL_MAX_BYTES = 4 << 20;
const WRITER_BYTES = 16 << 10;

/**
 * A batching span processor that encodes each sampled span to OTLP protobuf the moment it ends
 * and keeps only the bytes: the SDK's BatchSpanProcessor keeps up to 2048 span objects for up to
 * 5 s, long enough for them (attributes, events, hrtimes) to be promoted and collected by major
 * GCs, and its exporter then builds the request in two passes. Batching, the queue bound and
 * the drop-and-count behaviour are the BatchSpanProcessor's; the HTTP transport (headers,
 * timeout, gzip, TLS, retries, partial-success logging) is the SDK's, through
 * `createOtlpHttpExportDelegate`.
 */
export class OtlpStreamSpanProcessor implements SpanProcessor {
  readonly #delegate: IOtlpExportDelegate<EncodedRequest>;
  readonly #maxExportBatchSize: number;
  readonly #maxQueueSize: number;
  readonly #scheduledDelayMillis: number;
  readonly #exportTimeoutMillis: number;
  #open: Batch = { chunks: [], count: 0 };
  /** The chunk the previous span went to: consecutive spans mostly share a scope. */
  #last: ScopeChunk | undefined;
  readonly #ready: Batch[] = [];
  /** Spans in #open and #ready. */
  #queued = 0;
  /** A batch export started by size or timer is under way (one at a time, as in the SDK). */
  #exporting = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #inflight = new Set<Promise<void>>();
  readonly #pool: ProtoWriter[] = [];
  readonly #resourceFields = new WeakMap<Resource, Buffer>();
  readonly #scopeFields = new WeakMap<InstrumentationScope, Buffer>();
  #droppedSinceLog = 0;
  #dropped = 0;
  #unencodable = 0;
  #failedExports = 0;
  #exported = 0;
  #stopped: Promise<void> | undefined;

  constructor(options: OtlpStreamSpanProcessorOptions = {}) {
    this.#maxQueueSize = positiveInt('maxQueueSize', options.maxQueueSize) ?? 2048;
    // As in the SDK: a batch larger than the queue could never fill, so it is capped.
    this.#maxExportBatchSize = Math.min(positiveInt('maxExportBatchSize', options.maxExportBatchSize) ?? 512, this.#maxQueueSize);
    this.#scheduledDelayMillis = positiveInt('scheduledDelayMillis', options.scheduledDelayMillis) ?? 5000;
    this.#exportTimeoutMillis = positiveInt('exportTimeoutMillis', options.exportTimeoutMillis) ?? 30_000;
    const http = convertLegacyHttpOptions(options.otlp ?? {}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
    this.#delegate = createOtlpHttpExportDelegate(http, serializer, 'otlp_http_span_exporter', metricsHelper, undefined);
  }

  /** Spans dropped because the queue was full (or, never expected, because encoding threw). */
  get droppedSpans(): number {
    return this.#dropped + this.#unencodable;
  }

  /** Spans encoded and waiting for an export. */
  get queuedSpans(): number {
    return this.#queued;
  }

  /** Spans the collector accepted, and export requests that failed. */
  get stats(): { exportedSpans: number; failedExports: number } {
    return { exportedSpans: this.#exported, failedExports: this.#failedExports };
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#stopped !== undefined) return;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#queued >= this.#maxQueueSize) {
      if (this.#droppedSinceLog++ === 0) log('OTLP span queue full (maxQueueSize %d): dropping spans', this.#maxQueueSize);
      this.#dropped++;
      return;
    }
    if (this.#droppedSinceLog > 0) {
      log('dropped %d spans because maxQueueSize (%d) was reached', this.#droppedSinceLog, this.#maxQueueSize);
      this.#droppedSinceLog = 0;
    }
    const chunk = this.#chunkFor(span);
    const w = chunk.writer;
    const mark = w.pos;
    try {
      encodeSpan(w, span);
    } catch (err) {
      // A half-written span would corrupt the whole request: cut it off.
      w.pos = mark;
      if (this.#unencodable++ === 0) log('a span could not be encoded to OTLP and was dropped: %o', err);
      return;
    }
    this.#queued++;
    if (++this.#open.count >= this.#maxExportBatchSize) this.#close();
    this.#schedule();
  }

  forceFlush(): Promise<void> {
    return this.#stopped ?? this.#flushAll();
  }

  /** Exports what is queued, then stops the transport. Later spans are ignored. Idempotent. */
  shutdown(): Promise<void> {
    this.#stopped ??= (async () => {
      try {
        await this.#flushAll();
      } finally {
        await this.#delegate.shutdown();
      }
    })();
    return this.#stopped;
  }

  #chunkFor(span: ReadableSpan): ScopeChunk {
    const scope = span.instrumentationScope;
    const resource = span.resource;
    const last = this.#last;
    if (last !== undefined && last.scope === scope && last.resource === resource) return last;
    for (const c of this.#open.chunks) if (c.scope === scope && c.resource === resource) return (this.#last = c);
    const c: ScopeChunk = { resource, scope, writer: this.#pool.pop() ?? new ProtoWriter(WRITER_BYTES) };
    this.#open.chunks.push(c);
    return (this.#last = c);
  }

  /** Moves the open batch to the ready ones. */
  #close(): void {
    this.#clearTimer();
    this.#ready.push(this.#open);
    this.#open = { chunks: [], count: 0 };
    this.#last = undefined;
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts the next export if none is under way: a full batch at once, a partial one after the delay. */
  #schedule(): void {
    if (this.#exporting || this.#stopped !== undefined) return;
    const batch = this.#ready.shift();
    if (batch !== undefined) {
      this.#queued -= batch.count;
      this.#exporting = true;
      this.#send(batch)
        .catch((err: unknown) => globalErrorHandler(err as Error))
        .finally(() => {
          this.#exporting = false;
          this.#schedule();
        });
    } else if (this.#open.count > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#open.count > 0) this.#close();
        this.#schedule();
      }, this.#scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Exports every queued span (several requests at once if need be) and waits for every export under way. */
  async #flushAll(): Promise<void> {
    if (this.#open.count > 0) this.#close();
    this.#clearTimer();
    const own: Promise<void>[] = [];
    for (let b = this.#ready.shift(); b !== undefined; b = this.#ready.shift()) {
      this.#queued -= b.count;
      own.push(this.#send(b));
    }
    // Exports started earlier are waited for but their failures were reported already.
    await Promise.allSettled([...this.#inflight]);
    await Promise.all(own);
  }

  #send(batch: Batch): Promise<void> {
    const done = this.#exportBatch(batch);
    this.#inflight.add(done);
    const forget = () => void this.#inflight.delete(done);
    done.then(forget, forget);
    return done;
  }

  async #exportBatch(batch: Batch): Promise<void> {
    let bytes: Buffer;
    try {
      for (const c of batch.chunks) if (c.resource.asyncAttributesPending) await c.resource.waitForAsyncAttributes?.();
      bytes = assembleRequest(
        batch.chunks,
        (r) => this.#resourceField(r),
        (s) => this.#scopeField(s),
      );
    } finally {
      this.#release(batch);
    }
    const spans = batch.count;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timeout')), this.#exportTimeoutMillis);
      timer.unref();
      // The transport's own HTTP calls must not be traced (an instrumented http module would
      // otherwise make spans about exporting spans).
      context.with(suppressTracing(context.active()), () =>
        this.#delegate.export({ bytes, spans }, (result) => {
          clearTimeout(timer);
          if (result.code === ExportResultCode.SUCCESS) {
            this.#exported += spans;
            resolve();
          } else {
            this.#failedExports++;
            log('OTLP span export of %d spans failed: %s', spans, result.error?.message ?? 'unknown error');
            reject(result.error ?? new Error('OTLP span export failed'));
          }
        }),
      );
    });
  }

  #resourceField(resource: Resource): Buffer {
    let field = this.#resourceFields.get(resource);
    if (field === undefined) {
      field = encodeResourceField(resource);
      // Attributes still pending would change: such a resource is encoded again next time.
      if (!resource.asyncAttributesPending) this.#resourceFields.set(resource, field);
    }
    return field;
  }

  #scopeField(scope: InstrumentationScope): Buffer {
    let field = this.#scopeFields.get(scope);
    if (field === undefined) this.#scopeFields.set(scope, (field = encodeScopeField(scope)));
    return field;
  }

  #release(batch: Batch): void {
    for (const c of batch.chunks) {
      c.writer.pos = 0;
      if (this.#pool.length < POOL_SIZE && c.writer.buf.length <= POOL_MAX_BYTES) this.#pool.push(c.writer);
    }
    batch.chunks.length = 0;
  }
}
