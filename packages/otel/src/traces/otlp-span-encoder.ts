import type { Attributes, AttributeValue, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { ProtoWriter, varintSize } from './proto-writer.js';

// OTLP protobuf encoding of spans, field numbers from opentelemetry-proto's
// opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto. A tag byte is
// (field << 3) | wire type: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
// The values match what the SDK's ProtobufTraceSerializer writes (kind + 1, flags with the
// has-is-remote bit, int attributes as int64 within the int64 range, else double), except that
// zero counts are left out (proto3 reads an absent field as 0).

/** SpanFlags: the W3C trace flags in the low byte, then "is-remote is known" and "is remote". */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function flags(ctx: SpanContext, isRemote: boolean | undefined): number {
  return (ctx.traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** AnyValue (common.proto): string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7. */
function anyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.byte(0x0a);
      w.string(value);
      return;
    case 'boolean':
      w.byte(0x10);
      w.byte(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.byte(0x18);
        w.varint64(value);
      } else {
        w.byte(0x21);
        w.double(value);
      }
      return;
  }
  if (value instanceof Uint8Array) {
    w.byte(0x3a);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    // ArrayValue.values = 1, each an AnyValue (an empty one for null items, as the SDK writes).
    w.byte(0x2a);
    const arr = w.startLen(1);
    for (const item of value as unknown[]) {
      w.byte(0x0a);
      const at = w.startLen(1);
      anyValue(w, item);
      w.finishLen(at, 1);
    }
    w.finishLen(arr, 1);
  } else if (typeof value === 'object' && value !== null) {
    // KeyValueList.values = 1.
    w.byte(0x32);
    const list = w.startLen(1);
    keyValues(w, 0x0a, value as Record<string, unknown>);
    w.finishLen(list, 1);
  }
  // Anything else (undefined, null): an empty AnyValue, as the SDK writes.
}

/** Repeated KeyValue (key 1, value 2) under the tag byte `tag`. */
function keyValues(w: ProtoWriter, tag: number, attributes: Attributes | Record<string, unknown>): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    w.byte(tag);
    const kv = w.startLen(1);
    w.byte(0x0a);
    w.string(key);
    w.byte(0x12);
    const v = w.startLen(1);
    anyValue(w, (attributes as Record<string, AttributeValue | undefined>)[key]);
    w.finishLen(v, 1);
    w.finishLen(kv, 1);
  }
}

function uint32Field(w: ProtoWriter, tag: number, value: number | undefined): void {
  if (!value) return;
  w.byte(tag);
  w.varint32(value);
}

/** Span.Event: time_unix_nano 1, name 2, attributes 3, dropped_attributes_count 4. */
function event(w: ProtoWriter, e: TimedEvent): void {
  w.byte(0x5a);
  const at = w.startLen(1);
  w.byte(0x09);
  w.hrTime(e.time);
  w.byte(0x12);
  w.string(e.name);
  if (e.attributes) keyValues(w, 0x1a, e.attributes);
  uint32Field(w, 0x20, e.droppedAttributesCount);
  w.finishLen(at, 1);
}

/** trace_id 1, span_id 2, trace_state 3: the same field numbers in Span and Span.Link. */
function idsAndState(w: ProtoWriter, ctx: SpanContext): void {
  w.byte(0x0a);
  w.hexBytes(ctx.traceId);
  w.byte(0x12);
  w.hexBytes(ctx.spanId);
  const ts = ctx.traceState?.serialize();
  if (ts) {
    w.byte(0x1a);
    w.string(ts);
  }
}

/** Span.Link: trace_id 1, span_id 2, trace_state 3, attributes 4, dropped_attributes_count 5, flags 6. */
function link(w: ProtoWriter, l: Link): void {
  w.byte(0x6a);
  const at = w.startLen(1);
  const ctx = l.context;
  idsAndState(w, ctx);
  if (l.attributes) keyValues(w, 0x22, l.attributes);
  uint32Field(w, 0x28, l.droppedAttributesCount);
  w.byte(0x35);
  w.fixed32(flags(ctx, ctx.isRemote));
  w.finishLen(at, 1);
}

/**
 * Appends `span` as one `ScopeSpans.spans` entry (tag 2, length, Span message). Span fields:
 * trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6, start 7, end 8,
 * attributes 9, dropped_attributes_count 10, events 11, dropped_events_count 12, links 13,
 * dropped_links_count 14, status 15 (message 2, code 3), flags 16.
 */
export function encodeSpan(w: ProtoWriter, span: ReadableSpan): void {
  w.byte(0x12);
  // Most spans are 128 B to 16 KiB: a two-byte length, fixed up otherwise.
  const at = w.startLen(2);
  const ctx = span.spanContext();
  idsAndState(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.byte(0x22);
    w.hexBytes(parent.spanId);
  }
  w.byte(0x2a);
  w.string(span.name);
  // SpanKind in the API starts at INTERNAL = 0; in OTLP 0 is UNSPECIFIED.
  if (span.kind != null) {
    w.byte(0x30);
    w.byte(span.kind + 1);
  }
  w.byte(0x39);
  w.hrTime(span.startTime);
  w.byte(0x41);
  w.hrTime(span.endTime);
  keyValues(w, 0x4a, span.attributes);
  uint32Field(w, 0x50, span.droppedAttributesCount);
  for (const e of span.events) event(w, e);
  uint32Field(w, 0x60, span.droppedEventsCount);
  for (const l of span.links) link(w, l);
  uint32Field(w, 0x70, span.droppedLinksCount);
  // Status is always written (code even when UNSET), as the SDK does.
  const status = span.status;
  w.byte(0x7a);
  const st = w.startLen(1);
  if (status.message) {
    w.byte(0x12);
    w.string(status.message);
  }
  w.byte(0x18);
  w.byte(status.code);
  w.finishLen(st, 1);
  // Field 16 needs a two-byte tag: (16 << 3) | 5 = 133.
  w.byte(0x85);
  w.byte(0x01);
  w.fixed32(flags(ctx, parent?.isRemote));
  w.finishLen(at, 2);
}

/** `ScopeSpans.scope` (field 1) with InstrumentationScope name 1, version 2. */
export function encodeScopeField(scope: InstrumentationScope): Buffer {
  const w = new ProtoWriter(64);
  w.byte(0x0a);
  const at = w.startLen(1);
  w.byte(0x0a);
  w.string(scope.name);
  if (scope.version) {
    w.byte(0x12);
    w.string(scope.version);
  }
  w.finishLen(at, 1);
  return w.buf.subarray(0, w.pos);
}

/** `ResourceSpans.resource` (field 1) with Resource attributes 1. */
export function encodeResourceField(resource: Resource): Buffer {
  const w = new ProtoWriter(1024);
  w.byte(0x0a);
  const at = w.startLen(2);
  keyValues(w, 0x0a, resource.attributes);
  w.finishLen(at, 2);
  return w.buf.subarray(0, w.pos);
}

/** Encoded spans of one resource and scope, as consecutive `ScopeSpans.spans` entries. */
export interface ScopeChunk {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  readonly writer: ProtoWriter;
}

function schemaUrlSize(url: string | undefined): number {
  if (!url) return 0;
  const n = Buffer.byteLength(url, 'utf8');
  return 1 + varintSize(n) + n;
}

function writeSchemaUrl(w: ProtoWriter, url: string | undefined): void {
  if (!url) return;
  w.byte(0x1a);
  w.string(url);
}

/**
 * An ExportTraceServiceRequest (resource_spans 1 → ResourceSpans: resource 1, scope_spans 2,
 * schema_url 3 → ScopeSpans: scope 1, spans 2, schema_url 3) around encoded chunks, in one exactly
 * sized buffer: every nested length is known from the chunk sizes before anything is copied.
 * `resourceField`/`scopeField` give the encoded headers (callers cache them).
 */
export function assembleRequest(chunks: readonly ScopeChunk[], resourceField: (r: Resource) => Buffer, scopeField: (s: InstrumentationScope) => Buffer): Buffer {
  const byResource = new Map<Resource, ScopeChunk[]>();
  for (const c of chunks) {
    if (c.writer.pos === 0) continue;
    const list = byResource.get(c.resource);
    if (list) list.push(c);
    else byResource.set(c.resource, [c]);
  }
  const plan: { resource: Resource; size: number; scopes: { chunk: ScopeChunk; size: number }[] }[] = [];
  let total = 0;
  for (const [resource, list] of byResource) {
    let size = resourceField(resource).length + schemaUrlSize(resource.schemaUrl);
    const scopes = list.map((chunk) => {
      const s = scopeField(chunk.scope).length + chunk.writer.pos + schemaUrlSize(chunk.scope.schemaUrl);
      size += 1 + varintSize(s) + s;
      return { chunk, size: s };
    });
    plan.push({ resource, size, scopes });
    total += 1 + varintSize(size) + size;
  }
  const w = new ProtoWriter(Math.max(total, 1));
  for (const r of plan) {
    w.byte(0x0a);
    w.varint32(r.size);
    const header = resourceField(r.resource);
    header.copy(w.buf, w.pos);
    w.pos += header.length;
    for (const { chunk, size } of r.scopes) {
      w.byte(0x12);
      w.varint32(size);
      const scope = scopeField(chunk.scope);
      scope.copy(w.buf, w.pos);
      w.pos += scope.length;
      chunk.writer.buf.copy(w.buf, w.pos, 0, chunk.writer.pos);
      w.pos += chunk.writer.pos;
      writeSchemaUrl(w, chunk.scope.schemaUrl);
    }
    writeSchemaUrl(w, r.resource.schemaUrl);
  }
  if (w.pos !== total) throw new Error(`OTLP request assembly wrote ${w.pos} bytes, planned ${total}`);
  return w.buf.subarray(0, total);
}
