import { decodeKey, MAX_CACHE_SALT_LENGTH, MAX_MODEL_NAME_LENGTH, MemoryLayout, type DType, type KeyScope, type ObjectKey } from '@tierkv/core';
import { DURABILITIES, MAX_TRACEPARENT_CHARS, MAX_TRACESTATE_CHARS, REQUEST_TYPES, type Durability, type RequestType } from './messages.js';
import { WireError } from './wire-error.js';

/** Limits a request is checked against (from the server options). */
export interface RequestLimits {
  readonly maxKeysPerRequest: number;
  /** Token ids a request may carry (keys × chunk size). */
  readonly maxTokensPerRequest: number;
}

/** Keys given as encoded ObjectKeys, or token ids plus their scope (hashed by the server). */
export type KeyInput = { readonly keys: ObjectKey[] } | { readonly tokens: Uint32Array; readonly scope: KeyScope };

interface Base {
  /** Deadline the client asked for, ms (undefined: the server default). */
  readonly timeoutMs: number | undefined;
}

export type ParsedRequest =
  | (Base & { readonly type: 'ping' })
  | (Base & { readonly type: 'status' })
  | (Base & { readonly type: 'store'; readonly input: KeyInput; readonly layout: MemoryLayout; readonly mode: 'new' | 'update' | 'all'; readonly durability: Durability | undefined })
  | (Base & { readonly type: 'retrieve'; readonly input: KeyInput; readonly layout: MemoryLayout; readonly prefetchId: number | undefined })
  | (Base & { readonly type: 'lookup'; readonly input: KeyInput; readonly layout: MemoryLayout; readonly prefetch: boolean; readonly wait: boolean })
  | (Base & { readonly type: 'prefetch_status'; readonly prefetchId: number; readonly wait: boolean })
  | (Base & { readonly type: 'release'; readonly prefetchId: number })
  | (Base & { readonly type: 'clear'; readonly l2: boolean });

const TYPES: ReadonlySet<string> = new Set(REQUEST_TYPES);

/** The request type named by a header, `unknown` when absent or not one of ours (a bounded metric value). */
export function requestTypeOf(header: Record<string, unknown> | undefined): RequestType | 'unknown' {
  const t = header?.['type'];
  return typeof t === 'string' && TYPES.has(t) ? (t as RequestType) : 'unknown';
}

/**
 * The trace context fields of a header, when they are strings within their bounds; anything else
 * (absent, another type, too long) is ignored rather than refused: tracing never fails a request.
 * The traceparent's syntax is checked where it is used (`parseTraceparent`), only when tracing is on.
 */
export function traceFieldsOf(header: Record<string, unknown> | undefined): { traceparent: string; tracestate: string | undefined } | undefined {
  const tp = header?.['traceparent'];
  if (typeof tp !== 'string' || tp.length > MAX_TRACEPARENT_CHARS) return undefined;
  const ts = header?.['tracestate'];
  return { traceparent: tp, tracestate: typeof ts === 'string' && ts.length <= MAX_TRACESTATE_CHARS ? ts : undefined };
}

/** Checks a decoded header and returns the typed request; throws WireError naming the bad field. */
export function parseRequest(header: Record<string, unknown>, limits: RequestLimits, layouts: LayoutCache): ParsedRequest {
  const type = header['type'];
  if (typeof type !== 'string') throw new WireError('BAD_REQUEST', 'header.type must be a string naming the request', 'type');
  if (!TYPES.has(type)) {
    throw new WireError('UNKNOWN_TYPE', `unknown request type ${JSON.stringify(type.slice(0, 40))}; known: ${REQUEST_TYPES.join(', ')}`, 'type');
  }
  const timeoutMs = optionalNumber(header, 'timeoutMs', 1, 86_400_000);
  switch (type as RequestType) {
    case 'ping':
      return { type: 'ping', timeoutMs };
    case 'status':
      return { type: 'status', timeoutMs };
    case 'store': {
      const mode = header['mode'] ?? 'new';
      if (mode !== 'new' && mode !== 'update' && mode !== 'all') {
        throw new WireError('BAD_REQUEST', `mode must be 'new', 'update' or 'all', got ${JSON.stringify(mode)}`, 'mode');
      }
      // Absent (older clients): the server's default applies.
      const durability = header['durability'] ?? undefined;
      if (durability !== undefined && !DURABILITIES.includes(durability as Durability)) {
        throw new WireError('BAD_REQUEST', `durability must be ${DURABILITIES.map((d) => `'${d}'`).join(' or ')}, got ${JSON.stringify(durability)}`, 'durability');
      }
      return { type: 'store', timeoutMs, input: keyInput(header, limits), layout: layouts.parse(header['layout']), mode, durability: durability as Durability | undefined };
    }
    case 'retrieve':
      return {
        type: 'retrieve',
        timeoutMs,
        input: keyInput(header, limits),
        layout: layouts.parse(header['layout']),
        prefetchId: optionalNumber(header, 'prefetchId', 0, 0xffff_ffff),
      };
    case 'lookup':
      return {
        type: 'lookup',
        timeoutMs,
        input: keyInput(header, limits),
        layout: layouts.parse(header['layout']),
        prefetch: optionalBoolean(header, 'prefetch', true),
        wait: optionalBoolean(header, 'wait', false),
      };
    case 'prefetch_status':
      return { type: 'prefetch_status', timeoutMs, prefetchId: requiredNumber(header, 'prefetchId', 0, 0xffff_ffff), wait: optionalBoolean(header, 'wait', false) };
    case 'release':
      return { type: 'release', timeoutMs, prefetchId: requiredNumber(header, 'prefetchId', 0, 0xffff_ffff) };
    case 'clear':
      return { type: 'clear', timeoutMs, l2: optionalBoolean(header, 'l2', false) };
  }
}

function keyInput(header: Record<string, unknown>, limits: RequestLimits): KeyInput {
  const keys = header['keys'];
  const tokens = header['tokens'];
  if (keys !== undefined && tokens !== undefined) throw new WireError('BAD_REQUEST', 'give either keys or tokens, not both', 'keys');
  if (keys !== undefined) {
    if (!Array.isArray(keys)) throw new WireError('BAD_REQUEST', 'keys must be an array of encoded keys (encodeKey)', 'keys');
    if (keys.length > limits.maxKeysPerRequest) {
      throw new WireError('TOO_LARGE', `${keys.length} keys exceed the server's maxKeysPerRequest (${limits.maxKeysPerRequest}); split the request`, 'keys');
    }
    const out: ObjectKey[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (typeof k !== 'string') throw new WireError('BAD_REQUEST', `keys[${i}] must be a string (encodeKey)`, `keys[${i}]`);
      try {
        out[i] = decodeKey(k);
      } catch (err) {
        throw new WireError('BAD_REQUEST', (err as Error).message, `keys[${i}]`);
      }
    }
    return { keys: out };
  }
  if (tokens === undefined) throw new WireError('BAD_REQUEST', 'the request needs keys (encoded keys) or tokens (token ids with a scope)', 'keys');
  const ids = toTokenArray(tokens);
  if (ids.length > limits.maxTokensPerRequest) {
    throw new WireError('TOO_LARGE', `${ids.length} tokens exceed the server's limit (${limits.maxTokensPerRequest}); split the request`, 'tokens');
  }
  return { tokens: ids, scope: parseScope(header['scope']) };
}

/** Tokens arrive as a msgpack array of integers or as binary little-endian u32s. */
function toTokenArray(tokens: unknown): Uint32Array {
  if (tokens instanceof Uint8Array) {
    if (tokens.byteLength % 4 !== 0) throw new WireError('BAD_REQUEST', 'binary tokens must be little-endian u32s (length a multiple of 4)', 'tokens');
    const out = new Uint32Array(tokens.byteLength / 4);
    new Uint8Array(out.buffer).set(tokens);
    return out;
  }
  if (!Array.isArray(tokens)) throw new WireError('BAD_REQUEST', 'tokens must be an array of integers or binary u32s', 'tokens');
  const out = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffff_ffff) {
      throw new WireError('BAD_REQUEST', `tokens[${i}] must be an integer in [0, 2^32)`, `tokens[${i}]`);
    }
    out[i] = t;
  }
  return out;
}

function parseScope(scope: unknown): KeyScope {
  if (scope === null || typeof scope !== 'object') throw new WireError('BAD_REQUEST', 'tokens need a scope {modelName, kvRank?, cacheSalt?}', 'scope');
  const s = scope as Record<string, unknown>;
  if (typeof s['modelName'] !== 'string' || s['modelName'].length === 0) throw new WireError('BAD_REQUEST', 'scope.modelName must be a non-empty string', 'scope.modelName');
  if (s['modelName'].length > MAX_MODEL_NAME_LENGTH) throw new WireError('TOO_LARGE', `scope.modelName is longer than ${MAX_MODEL_NAME_LENGTH} characters`, 'scope.modelName');
  const kvRank = s['kvRank'] ?? 0;
  if (typeof kvRank !== 'number' || !Number.isInteger(kvRank) || kvRank < 0 || kvRank > 0xffff_ffff) {
    throw new WireError('BAD_REQUEST', 'scope.kvRank must be an integer in [0, 2^32)', 'scope.kvRank');
  }
  const cacheSalt = s['cacheSalt'] ?? '';
  if (typeof cacheSalt !== 'string') throw new WireError('BAD_REQUEST', 'scope.cacheSalt must be a string', 'scope.cacheSalt');
  if (cacheSalt.length > MAX_CACHE_SALT_LENGTH) throw new WireError('TOO_LARGE', `scope.cacheSalt is longer than ${MAX_CACHE_SALT_LENGTH} characters`, 'scope.cacheSalt');
  return { modelName: s['modelName'], kvRank, cacheSalt };
}

function optionalNumber(h: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = h[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new WireError('BAD_REQUEST', `${field} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`, field);
  }
  return v;
}

function requiredNumber(h: Record<string, unknown>, field: string, min: number, max: number): number {
  const v = optionalNumber(h, field, min, max);
  if (v === undefined) throw new WireError('BAD_REQUEST', `${field} is required`, field);
  return v;
}

function optionalBoolean(h: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = h[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new WireError('BAD_REQUEST', `${field} must be a boolean`, field);
  return v;
}

const LAYOUT_ID_RE = /^([a-z0-9_]+)\[(\d+(?:,\d+)*)\]$/;
const LAYOUT_CACHE_LIMIT = 256;

/**
 * Parses layouts sent as their compact id (`MemoryLayout.toString()`, e.g. `float16[2,32,256,8,128]`,
 * tensors joined by `;`) or as JSON, and keeps recent ones: a workload uses a handful of layouts,
 * so the hot path is one Map lookup.
 */
export class LayoutCache {
  readonly #byId = new Map<string, MemoryLayout>();

  parse(value: unknown): MemoryLayout {
    if (typeof value === 'string') {
      const hit = this.#byId.get(value);
      if (hit) return hit;
      const layout = parseLayoutId(value);
      if (this.#byId.size >= LAYOUT_CACHE_LIMIT) this.#byId.clear();
      this.#byId.set(value, layout);
      return layout;
    }
    if (value === undefined || value === null) {
      throw new WireError('BAD_REQUEST', "layout is required (e.g. 'uint8[1048576]' or {shapes, dtypes})", 'layout');
    }
    try {
      return MemoryLayout.fromJSON(value);
    } catch (err) {
      throw new WireError('BAD_REQUEST', `invalid layout: ${(err as Error).message}`, 'layout');
    }
  }
}

export function parseLayoutId(id: string): MemoryLayout {
  const shapes: number[][] = [];
  const dtypes: DType[] = [];
  if (id.length > 4096) throw new WireError('BAD_REQUEST', 'layout id is too long', 'layout');
  for (const part of id.split(';')) {
    const m = LAYOUT_ID_RE.exec(part);
    if (!m) throw new WireError('BAD_REQUEST', `invalid layout ${JSON.stringify(id.slice(0, 80))}; expected dtype[d1,d2,…] joined by ';'`, 'layout');
    dtypes.push(m[1] as DType);
    shapes.push(m[2]!.split(',').map(Number));
  }
  try {
    return new MemoryLayout(shapes, dtypes);
  } catch (err) {
    throw new WireError('BAD_REQUEST', `invalid layout: ${(err as Error).message}`, 'layout');
  }
}
