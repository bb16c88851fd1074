import type { MemoryLayoutJSON } from '@tierkv/core';

/**
 * The tierkv wire protocol (version 1). Every message is a ZeroMQ multipart message:
 *
 *   frame 0  prelude, 8 bytes: 'T' 'K', version (u8), kind (u8: 0 request, 1 reply), request id (u32 LE)
 *   frame 1  header: a msgpack map (the request or reply fields below)
 *   frame 2… chunk bytes, one frame per chunk, in key order (store requests, retrieve replies)
 *
 * The request id sits in the fixed prelude so the server can answer a request whose header it
 * cannot decode, and the client can match every reply without parsing it first.
 */
export const PROTOCOL_VERSION = 1;
export const PRELUDE_BYTES = 8;
export const KIND_REQUEST = 0;
export const KIND_REPLY = 1;

/** Every request type; the closed set of the `tierkv.request.type` attribute (plus `unknown`). */
export const REQUEST_TYPES = ['ping', 'store', 'retrieve', 'lookup', 'prefetch_status', 'release', 'clear', 'status'] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/**
 * Error codes a server puts in an error reply. Stable: clients map them to typed errors.
 * - MALFORMED: the frames do not follow the protocol (prelude, msgpack header).
 * - UNKNOWN_TYPE: the header's `type` is not a request type of this version.
 * - BAD_REQUEST: a field is missing or of the wrong kind; `field` names it.
 * - TOO_LARGE: the request exceeds the server's `maxPayloadBytes` or `maxKeysPerRequest`.
 * - LAYOUT_MISMATCH: chunk frames do not match the layout, or stored objects have another layout.
 * - NOT_FOUND: an unknown (or already released) prefetch id.
 * - BUSY: the server (or this client's share of it) is at its in-flight limit, or (store) the
 *   storage's write-through to L2 is behind and refuses new writes; nothing was done, retry later.
 * - TIMEOUT: the request did not finish within its deadline on the server.
 * - SHUTTING_DOWN: the server is draining and accepts no new work.
 * - INTERNAL: the server failed; the message says how.
 */
export const ERROR_CODES = [
  'MALFORMED',
  'UNKNOWN_TYPE',
  'BAD_REQUEST',
  'TOO_LARGE',
  'LAYOUT_MISMATCH',
  'NOT_FOUND',
  'BUSY',
  'TIMEOUT',
  'SHUTTING_DOWN',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where a key lives; `miss` when nowhere. */
export type WireTier = 'l1' | 'l2' | 'miss';

/** Chunk keys of a request: canonical `encodeKey` strings, or token ids the server hashes into keys. */
export interface KeySource {
  /** Encoded ObjectKeys (`encodeKey`). */
  keys?: string[];
  /** Token ids; the server hashes every full chunk with its TokenHasher. Needs `scope`. */
  tokens?: number[] | Uint32Array;
  /** Model, rank and salt of `tokens`. */
  scope?: { modelName: string; kvRank?: number; cacheSalt?: string };
}

/** Fields every request header carries. */
export interface RequestBase {
  type: RequestType;
  /** The client's deadline for this request in ms; the server caps it at its `requestTimeoutMs`. */
  timeoutMs?: number;
  /**
   * W3C `traceparent` of the client's span (`00-<trace id>-<span id>-<flags>`, 55 characters): the
   * server's span continues that trace. Optional and advisory: a server ignores it when absent,
   * malformed, or longer than MAX_TRACEPARENT_CHARS; servers older than the field ignore it too.
   */
  traceparent?: string;
  /** W3C `tracestate` passed with `traceparent`; ignored beyond MAX_TRACESTATE_CHARS. */
  tracestate?: string;
}

/** Longest `traceparent` a server reads (version 00 has 55 characters; later versions may append fields). */
export const MAX_TRACEPARENT_CHARS = 256;
/** Longest `tracestate` a server reads. */
export const MAX_TRACESTATE_CHARS = 512;

export interface PingRequest extends RequestBase {
  type: 'ping';
}

export interface StoreRequest extends RequestBase, KeySource {
  type: 'store';
  /** Layout id (`MemoryLayout.toString()`, e.g. `uint8[1048576]`) or its JSON form. */
  layout: string | MemoryLayoutJSON;
  /** `new` (default): skip keys already present; `update`: only present keys; `all`: both. */
  mode?: 'new' | 'update' | 'all';
  /** What the acknowledgement waits for (see Durability). @default the server's `durability` option */
  durability?: Durability;
}

/**
 * What a store's acknowledgement means. `memory`: the chunks are in the server's L1 (its write-through
 * to L2 follows in the background; a crash can lose it). `l2`: the reply waits until every L2 tier
 * stored them (fsynced when the fs tier is configured with fsync).
 */
export const DURABILITIES = ['memory', 'l2'] as const;
export type Durability = (typeof DURABILITIES)[number];

/** Per key of an `l2` store: `durable`, or why not (see @tierkv/storage's DurableOutcome). */
export type WireStoreOutcome = 'durable' | 'not_stored' | 'l2_failed' | 'l2_skipped';

export interface RetrieveRequest extends RequestBase, KeySource {
  type: 'retrieve';
  layout: string | MemoryLayoutJSON;
  /** A prefetch of this client whose locks the retrieve uses (and releases). */
  prefetchId?: number;
}

export interface LookupRequest extends RequestBase, KeySource {
  type: 'lookup';
  layout: string | MemoryLayoutJSON;
  /** Start a prefetch (L1 hits locked, L2 prefix loaded into L1). @default true */
  prefetch?: boolean;
  /** Wait for the prefetch to settle and report `ready`. @default false */
  wait?: boolean;
}

export interface PrefetchStatusRequest extends RequestBase {
  type: 'prefetch_status';
  prefetchId: number;
  /** Wait until the prefetch settles (within the deadline). @default false */
  wait?: boolean;
}

export interface ReleaseRequest extends RequestBase {
  type: 'release';
  prefetchId: number;
}

export interface ClearRequest extends RequestBase {
  type: 'clear';
  /** Also clear the L2 tiers. @default false */
  l2?: boolean;
}

export interface StatusRequest extends RequestBase {
  type: 'status';
}

export type Request =
  | PingRequest
  | StoreRequest
  | RetrieveRequest
  | LookupRequest
  | PrefetchStatusRequest
  | ReleaseRequest
  | ClearRequest
  | StatusRequest;

/** Reply bodies, by request type. Every success reply header also has `ok: true`. */
export interface PingReply {
  version: string;
  uptimeMs: number;
}

export interface StoreReply {
  /**
   * Per key: whether it is now stored (false: present already for `new`, absent for `update`, or no
   * memory). With durability `l2`, true only for keys every L2 tier stored (`outcomes[i] === 'durable'`).
   */
  stored: boolean[];
  /** What the acknowledgement means (absent from servers older than the field: `memory`). */
  durability?: Durability;
  /** With durability `l2`: per key, `durable` or the failure code. */
  outcomes?: WireStoreOutcome[];
  /** The encoded keys, when the request gave tokens. */
  keys?: string[];
}

export interface RetrieveReply {
  /** Chunks returned: the ready prefix; the reply carries this many chunk frames. */
  count: number;
  keys?: string[];
}

export interface LookupReply {
  /** Where each key lives now (before any prefetch ran). */
  tiers: WireTier[];
  /** Present when a prefetch was started. */
  prefetchId?: number;
  /** Leading keys ready and locked, when `wait` was set (or the prefetch settled at once). */
  ready?: number;
  keys?: string[];
}

export interface PrefetchStatusReply {
  /** Leading keys ready; absent while loads are pending. */
  ready?: number;
}

export interface ReleaseReply {
  /** Read locks released. */
  released: number;
}

export interface ClearReply {
  cleared: true;
}

/** Usage of one tier in a status reply or on `/status`. */
export interface TierStatus {
  tier: string;
  usedBytes: number;
  capacityBytes: number | null;
  objects: number;
}

export interface ServerStatus {
  version: string;
  protocolVersion: number;
  uptimeMs: number;
  state: 'running' | 'draining' | 'closed';
  tiers: TierStatus[];
  clients: { connected: number; sessions: number };
  requests: { inFlight: number; maxInFlight: number; total: number };
  locks: { held: number; prefetches: number };
  storeQueueDepth: number;
  activePrefetches: number;
}

export type StatusReply = ServerStatus;

export interface ErrorReply {
  ok: false;
  code: ErrorCode;
  message: string;
  /** The request field at fault, when one is. */
  field?: string;
}
