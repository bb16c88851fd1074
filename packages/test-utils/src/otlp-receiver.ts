import type { IncomingHttpHeaders } from 'node:http';
import { otlpGeneratedRoot, serveOtlpHttp } from './otlp-http.js';

/** The static-module surface pbjs generates for one message type (the part used here). */
interface StaticMessageType {
  new (): object;
  decode(bytes: Uint8Array): object;
  fromObject(object: Record<string, unknown>): object;
  verify(message: Record<string, unknown>): string | null;
  toObject(message: object, options: Record<string, unknown>): unknown;
}

/** `ExportMetricsServiceRequest` from the official generated OTLP schema (see otlpGeneratedRoot). */
export function exportMetricsRequestType(): StaticMessageType {
  return otlpGeneratedRoot<{ opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: StaticMessageType } } } } } }>().opentelemetry.proto.collector.metrics.v1
    .ExportMetricsServiceRequest;
}

const TO_OBJECT = { longs: Number, enums: String, bytes: String, defaults: false, arrays: true, oneofs: true };

function isMessage(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value) && value.constructor !== Object;
}

/**
 * Throws if a JSON field is not in the schema (fromObject would silently drop it). Generated
 * message classes declare every field on their prototype, so the decoded message says which
 * names exist and which nested message each field holds.
 */
function checkJsonFields(message: object, json: unknown, path: string): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return;
  const proto = Object.getPrototypeOf(message) as Record<string, unknown>;
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    if (!(key in proto)) throw new Error(`OTLP/JSON field ${path}.${key} is not in ${message.constructor.name}`);
    const decoded = (message as Record<string, unknown>)[key];
    if (Array.isArray(decoded) && Array.isArray(v)) {
      decoded.forEach((item, i) => isMessage(item) && checkJsonFields(item, v[i], `${path}.${key}`));
    } else if (isMessage(decoded)) {
      checkJsonFields(decoded, v, `${path}.${key}`);
    }
  }
}

/** Decodes an OTLP/HTTP metrics body (protobuf or JSON) into a plain object with numeric longs. */
export function decodeExportMetricsRequest(body: Buffer, contentType: string): ExportMetricsRequest {
  const type = exportMetricsRequestType();
  if (contentType.startsWith('application/json')) {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const message = type.fromObject(json);
    checkJsonFields(message, json, 'request');
    const err = type.verify(message as Record<string, unknown>);
    if (err) throw new Error(`OTLP/JSON does not verify: ${err}`);
    return type.toObject(message, TO_OBJECT) as ExportMetricsRequest;
  }
  if (contentType.startsWith('application/x-protobuf')) {
    return type.toObject(type.decode(body), TO_OBJECT) as ExportMetricsRequest;
  }
  throw new Error(`unexpected OTLP content-type ${contentType}`);
}

// The decoded shape (the subset tests read).
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
export interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  asDouble?: number;
  asInt?: number;
  timeUnixNano?: number;
}
export interface OtlpHistogramPoint {
  attributes?: OtlpKeyValue[];
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  description?: string;
  sum?: { dataPoints?: OtlpNumberPoint[]; isMonotonic?: boolean; aggregationTemporality?: string };
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  histogram?: { dataPoints?: OtlpHistogramPoint[]; aggregationTemporality?: string };
  exponentialHistogram?: { dataPoints?: OtlpExponentialHistogramPoint[]; aggregationTemporality?: string };
}
export interface OtlpExponentialHistogramPoint {
  attributes?: OtlpKeyValue[];
  count?: number;
  sum?: number;
  scale?: number;
  zeroCount?: number;
  positive?: { offset?: number; bucketCounts?: number[] };
}
export interface ExportMetricsRequest {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: { scope?: { name?: string; version?: string }; metrics?: OtlpMetric[] }[];
  }[];
}

export interface ReceivedExport {
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly headers: IncomingHttpHeaders;
  readonly request: ExportMetricsRequest;
  /** The body's content-encoding as sent (`gzip`, or `identity` when none). */
  readonly encoding: string;
  /** Body size on the wire, in bytes. */
  readonly wireBytes: number;
}

export interface OtlpReceiver {
  /** The metrics URL to export to. */
  readonly url: string;
  readonly exports: ReceivedExport[];
  /** Bodies that failed to decode (a test should expect none). */
  readonly errors: Error[];
  /** HTTP status to answer with (200 by default; 503 simulates a failing collector). */
  status: number;
  /** Resolves once at least `n` exports arrived. */
  waitForExports(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A loopback OTLP/HTTP metrics receiver that decodes every export with the official schema. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  exportMetricsRequestType();
  const exports: ReceivedExport[] = [];
  const errors: Error[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const receiver = { status: 200 };
  const endpoint = await serveOtlpHttp(
    '/v1/metrics',
    ({ body, contentType, protocol, headers, encoding, wireBytes }) => {
      exports.push({ protocol, headers, request: decodeExportMetricsRequest(body, contentType), encoding, wireBytes });
      for (const w of [...waiters]) {
        if (exports.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    (err) => errors.push(err),
    () => receiver.status,
  );
  return Object.assign(receiver, {
    url: endpoint.url,
    exports,
    errors,
    waitForExports(n: number, timeoutMs = 10_000) {
      if (exports.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} OTLP exports (got ${exports.length})`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => endpoint.close(),
  });
}

/** One data point of an OTLP export, flattened: attributes as a plain record. */
export interface OtlpPoint {
  readonly metric: string;
  /** The metric's unit as exported (`''` when none). */
  readonly unit: string;
  readonly scope: string;
  readonly type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram';
  readonly monotonic: boolean;
  readonly attributes: Record<string, string | number | boolean>;
  /** Sum/gauge value; histogram count. */
  readonly value: number;
  readonly sum?: number;
  readonly bucketCounts?: readonly number[];
  readonly explicitBounds?: readonly number[];
  /** Exponential histograms: the scale (resolution) of the buckets. */
  readonly scale?: number;
}

function attrs(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue ?? '';
  }
  return out;
}

/** Every data point of a decoded export. */
export function otlpPoints(request: ExportMetricsRequest): OtlpPoint[] {
  const out: OtlpPoint[] = [];
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = sm.scope?.name ?? '';
      for (const m of sm.metrics ?? []) {
        for (const p of m.sum?.dataPoints ?? []) {
          out.push({ metric: m.name, unit: m.unit ?? '', scope, type: 'sum', monotonic: !!m.sum?.isMonotonic, attributes: attrs(p.attributes), value: p.asDouble ?? p.asInt ?? 0 });
        }
        for (const p of m.gauge?.dataPoints ?? []) {
          out.push({ metric: m.name, unit: m.unit ?? '', scope, type: 'gauge', monotonic: false, attributes: attrs(p.attributes), value: p.asDouble ?? p.asInt ?? 0 });
        }
        for (const p of m.histogram?.dataPoints ?? []) {
          out.push({
            metric: m.name,
            unit: m.unit ?? '',
            scope,
            type: 'histogram',
            monotonic: false,
            attributes: attrs(p.attributes),
            value: p.count ?? 0,
            sum: p.sum ?? 0,
            bucketCounts: p.bucketCounts ?? [],
            explicitBounds: p.explicitBounds ?? [],
          });
        }
        for (const p of m.exponentialHistogram?.dataPoints ?? []) {
          out.push({
            metric: m.name,
            unit: m.unit ?? '',
            scope,
            type: 'exponentialHistogram',
            monotonic: false,
            attributes: attrs(p.attributes),
            value: p.count ?? 0,
            sum: p.sum ?? 0,
            bucketCounts: p.positive?.bucketCounts ?? [],
            scale: p.scale ?? 0,
          });
        }
      }
    }
  }
  return out;
}

/** Resource attributes of a decoded export (the first resource). */
export function otlpResource(request: ExportMetricsRequest): Record<string, string | number | boolean> {
  return attrs(request.resourceMetrics?.[0]?.resource?.attributes);
}

// ---- traces ---------------------------------------------------------------------------------

/** `ExportTraceServiceRequest` from the same official generated schema as the metrics one. */
export function exportTraceRequestType(): StaticMessageType {
  return otlpGeneratedRoot<{ opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: StaticMessageType } } } } } }>().opentelemetry.proto.collector.trace.v1
    .ExportTraceServiceRequest;
}

const ID_FIELDS = ['traceId', 'spanId', 'parentSpanId'] as const;

/**
 * OTLP/JSON carries trace and span ids as hex (the OTLP JSON mapping's one deviation from proto3
 * JSON, which would use base64): turn them into bytes before protobufjs reads the object.
 */
function hexIdsToBytes(json: Record<string, unknown>): void {
  for (const rs of (json['resourceSpans'] as Record<string, unknown>[] | undefined) ?? []) {
    for (const ss of (rs['scopeSpans'] as Record<string, unknown>[] | undefined) ?? []) {
      for (const span of (ss['spans'] as Record<string, unknown>[] | undefined) ?? []) {
        for (const f of ID_FIELDS) {
          const v = span[f];
          if (typeof v !== 'string') continue;
          if (v !== '' && !/^[0-9a-f]+$/i.test(v)) throw new Error(`OTLP/JSON span.${f} ${JSON.stringify(v)} is not hex`);
          span[f] = Buffer.from(v, 'hex');
        }
      }
    }
  }
}

export interface OtlpSpanRecord {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: string;
  startTimeUnixNano?: number;
  endTimeUnixNano?: number;
  attributes?: OtlpKeyValue[];
  status?: { code?: string; message?: string };
}
export interface ExportTraceRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: OtlpSpanRecord[] }[];
  }[];
}

/** Decodes an OTLP/HTTP traces body (protobuf or JSON) with the official schema; ids as base64. */
export function decodeExportTraceRequest(body: Buffer, contentType: string): ExportTraceRequest {
  const type = exportTraceRequestType();
  if (contentType.startsWith('application/json')) {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    hexIdsToBytes(json);
    const message = type.fromObject(json);
    checkJsonFields(message, json, 'request');
    const err = type.verify(message as Record<string, unknown>);
    if (err) throw new Error(`OTLP/JSON does not verify: ${err}`);
    return type.toObject(message, TO_OBJECT) as ExportTraceRequest;
  }
  if (contentType.startsWith('application/x-protobuf')) return type.toObject(type.decode(body), TO_OBJECT) as ExportTraceRequest;
  throw new Error(`unexpected OTLP content-type ${contentType}`);
}

/** One span of an OTLP export, flattened: hex ids, attributes as a plain record. */
export interface OtlpSpan {
  readonly name: string;
  readonly scope: string;
  readonly kind: string;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly attributes: Record<string, string | number | boolean>;
  /** STATUS_CODE_UNSET, STATUS_CODE_OK or STATUS_CODE_ERROR. */
  readonly status: string;
  readonly startTimeUnixNano: number;
  readonly endTimeUnixNano: number;
}

const hex = (b64: string | undefined): string => (b64 ? Buffer.from(b64, 'base64').toString('hex') : '');

/** Every span of a decoded traces export. */
export function otlpSpans(request: ExportTraceRequest): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          name: s.name,
          scope: ss.scope?.name ?? '',
          kind: s.kind ?? 'SPAN_KIND_UNSPECIFIED',
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          traceState: s.traceState ?? '',
          attributes: attrs(s.attributes),
          status: s.status?.code ?? 'STATUS_CODE_UNSET',
          startTimeUnixNano: s.startTimeUnixNano ?? 0,
          endTimeUnixNano: s.endTimeUnixNano ?? 0,
        });
      }
    }
  }
  return out;
}

export interface ReceivedTraceExport {
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly headers: IncomingHttpHeaders;
  readonly request: ExportTraceRequest;
}

export interface OtlpTraceReceiver {
  /** The traces URL to export to (`…/v1/traces`). */
  readonly url: string;
  readonly exports: ReceivedTraceExport[];
  readonly errors: Error[];
  /** Every span received so far, flattened. */
  spans(): OtlpSpan[];
  /** Resolves once `predicate` holds for the spans received (checked on every export). */
  waitFor(predicate: (spans: OtlpSpan[]) => boolean, timeoutMs?: number): Promise<OtlpSpan[]>;
  close(): Promise<void>;
}

/** A loopback OTLP/HTTP traces receiver that decodes every export with the official schema. */
export async function startOtlpTraceReceiver(): Promise<OtlpTraceReceiver> {
  exportTraceRequestType();
  const exports: ReceivedTraceExport[] = [];
  const errors: Error[] = [];
  let waiters: (() => void)[] = [];
  const spans = () => exports.flatMap((e) => otlpSpans(e.request));
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const endpoint = await serveOtlpHttp(
    '/v1/traces',
    ({ body, contentType, protocol, headers }) => {
      exports.push({ protocol, headers, request: decodeExportTraceRequest(body, contentType) });
      notify();
    },
    (err) => {
      errors.push(err);
      notify();
    },
  );
  return {
    url: endpoint.url,
    exports,
    errors,
    spans,
    waitFor(predicate, timeoutMs = 10_000) {
      return new Promise<OtlpSpan[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for OTLP spans (got ${spans().map((s) => s.name).join(', ') || 'none'})`)), timeoutMs);
        const check = () => {
          const all = spans();
          if (predicate(all)) {
            clearTimeout(timer);
            resolve(all);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    close: () => endpoint.close(),
  };
}
