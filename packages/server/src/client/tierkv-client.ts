import {
  ATTR,
  curveClientOptions,
  type CurveClientSocketOptions,
  ClosedError,
  endSpan,
  formatTraceparent,
  TracerBinding,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
  UnavailableError,
  type MemoryLayout,
  type ChunkKeys,
  type RetrieveResult,
} from '@tierkv/core';
import { SpanKind, type Span } from '@opentelemetry/api';
import type { ClientTransport } from './client-transport.js';
import { TcpClientTransport, tcpEndpointAddress } from './tcp-client-transport.js';
import { ZeromqClientTransport } from './zeromq-client-transport.js';
import { keyCountOf, keyFields, keysOf } from './wire-keys.js';
import { decodeHeader, decodePrelude, encodeRequest, framesBytes } from '../protocol/codec.js';
import { fitsFrames } from '../protocol/stream-framing.js';
import { KIND_REPLY, type ErrorCode, type PingReply, type RequestType, type ServerStatus } from '../protocol/messages.js';
import { errorFromReply } from './client-errors.js';
import { checkInto, fillInto } from './retrieve-into.js';
import { checkLookupReply, checkRetrieveReply, checkStoreReply, countField, replyKeyCount } from './reply-checks.js';
import { ClientMetrics, type ClientOutcome } from './client-metrics.js';
import { SERVER_PACKAGE_VERSION } from '../version.js';
import { checkDurability, resolveClientOptions, type ResolvedTierkvClientOptions, type TierkvClientOptions } from './client-options.js';

import type { CallOptions, LookupOptions, LookupResult, PingResult, RetrieveOptions, ServerStoreResult, StoreOptions } from './client-calls.js';


interface Pending {
  readonly type: RequestType;
  readonly started: number;
  readonly timeoutMs: number;
  readonly timer: NodeJS.Timeout;
  readonly span: Span | undefined;
  /** The connection the request went out on (a lost TCP connection fails its requests at once). */
  readonly via: ClientTransport;
  /** A retrieve's buffers to read the chunks into. */
  readonly into: readonly Uint8Array[] | undefined;
  readonly resolve: (reply: { header: Record<string, unknown>; chunks: Buffer[] }) => void;
  readonly reject: (err: Error) => void;
}

const MAX_ID = 0xffff_ffff;

/**
 * A client of TierkvServer, over the transport its endpoint names: `tcp://…` a ZeroMQ DEALER
 * socket, `tierkv+tcp://…` one plain TCP connection. Calls may run concurrently; replies are
 * matched by request id. Chunk bytes are sent from the caller's buffers as they are.
 */
export class TierkvClient {
  readonly #o: ResolvedTierkvClientOptions;
  /** CURVE socket options when the server wants a token (one key pair for the client's life). */
  readonly #curve: CurveClientSocketOptions | Record<string, never>;
  readonly #metrics: ClientMetrics;
  readonly #tracing: TracerBinding;
  /** `server.address`/`server.port` of the endpoint, for span attributes (bounded: one per client). */
  readonly #peer: { address: string; port: number | undefined };
  readonly #pending = new Map<number, Pending>();
  /** Undefined after a TCP connection was lost: the next call connects anew. */
  #socket: ClientTransport | undefined;
  #nextId = 1;
  /** The request whose reply the TCP reader is writing into its `into` buffers right now. */
  #directId: number | undefined;
  #closed = false;
  #lastReconnect = 0;

  constructor(options: TierkvClientOptions = {}) {
    this.#o = resolveClientOptions(options);
    this.#curve = this.#o.authToken === undefined ? {} : curveClientOptions(this.#o.authToken, 'tierkv-server', 'client.authToken');
    this.#metrics = new ClientMetrics(() => this.#pending.size, { meterProvider: options.meterProvider });
    this.#tracing = new TracerBinding({ name: '@tierkv/server/client', version: SERVER_PACKAGE_VERSION }, { tracerProvider: options.tracerProvider });
    this.#peer = peerOf(this.#o.endpoint);
    this.#socket = this.#connect();
  }

  get endpoint(): string {
    return this.#o.endpoint;
  }

  get clientId(): string {
    return this.#o.clientId;
  }

  /** Calls awaiting their reply. */
  get inFlight(): number {
    return this.#pending.size;
  }

  async ping(options: CallOptions = {}): Promise<PingResult> {
    const started = performance.now();
    const { header } = await this.#call('ping', {}, [], options.timeoutMs);
    const h = header as unknown as PingReply;
    return { version: h.version, uptimeMs: h.uptimeMs, rttMs: performance.now() - started };
  }

  /** Stores one chunk per key; `chunks[i]` must be exactly the layout's byte size. */
  async store(keys: ChunkKeys, chunks: readonly Uint8Array[], options: StoreOptions = {}): Promise<ServerStoreResult> {
    const layout = this.#layout(options.layout, 'store');
    const asked = checkDurability(options.durability, 'options.durability', (f, m) => new InvalidArgumentError(f, m)) ?? this.#o.durability;
    const body = keyFields(keys);
    body['layout'] = layout.toString();
    if (options.mode && options.mode !== 'new') body['mode'] = options.mode;
    // Omitted unless set, so the server's default applies.
    if (asked) body['durability'] = asked;
    const { header } = await this.#call('store', body, chunks, options.timeoutMs);
    const { stored, durability, outcomes } = checkStoreReply(header, replyKeyCount(keyCountOf(keys), header, 'store'));
    // A server older than the field ignores it: its acknowledgement must not pass for an L2 one.
    if (asked === 'l2' && durability !== 'l2') throw new ProtocolError("the server acknowledged a store with durability 'memory' although 'l2' was asked; it predates durability, upgrade it");
    return { stored, storedCount: stored.filter(Boolean).length, keys: keysOf(keys, header), durability, outcomes };
  }

  /** `store`, named as the in-process TierkvCache names it (same shapes). */
  put(keys: ChunkKeys, chunks: readonly Uint8Array[], options: StoreOptions = {}): Promise<ServerStoreResult> {
    return this.store(keys, chunks, options);
  }

  /** `retrieve`, named as the in-process TierkvCache names it (same shapes). */
  get(keys: ChunkKeys, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    return this.retrieve(keys, options);
  }

  /** The bytes of the longest ready prefix of `keys` (loaded from L2 if needed). */
  async retrieve(keys: ChunkKeys, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    const layout = this.#layout(options.layout, 'retrieve');
    const into = options.into === undefined ? undefined : checkInto(options.into, layout, keyCountOf(keys));
    const body = keyFields(keys);
    body['layout'] = layout.toString();
    if (options.prefetchId !== undefined) body['prefetchId'] = options.prefetchId;
    const { header, chunks } = await this.#call('retrieve', body, [], options.timeoutMs, into);
    checkRetrieveReply(header, chunks, layout, replyKeyCount(keyCountOf(keys), header, 'retrieve'));
    return { chunks: into ? fillInto(into, chunks) : chunks, keys: keysOf(keys, header) };
  }

  /** Where each key lives; by default also starts a prefetch of the found prefix. */
  async lookup(keys: ChunkKeys, options: LookupOptions = {}): Promise<LookupResult> {
    const layout = this.#layout(options.layout, 'lookup');
    const body = keyFields(keys);
    body['layout'] = layout.toString();
    if (options.prefetch === false) body['prefetch'] = false;
    if (options.wait) body['wait'] = true;
    const { header } = await this.#call('lookup', body, [], options.timeoutMs);
    const tiers = checkLookupReply(header, replyKeyCount(keyCountOf(keys), header, 'lookup'));
    let prefixLength = 0;
    while (prefixLength < tiers.length && tiers[prefixLength] !== 'miss') prefixLength++;
    return {
      tiers,
      prefixLength,
      prefetchId: countField(header, 'lookup', 'prefetchId'),
      ready: countField(header, 'lookup', 'ready'),
      keys: keysOf(keys, header),
    };
  }

  /** Leading keys of the prefetch ready and locked, or undefined while loads are pending. */
  async prefetchStatus(prefetchId: number, options: CallOptions & { wait?: boolean } = {}): Promise<number | undefined> {
    const { header } = await this.#call('prefetch_status', options.wait ? { prefetchId, wait: true } : { prefetchId }, [], options.timeoutMs);
    return countField(header, 'prefetch_status', 'ready');
  }

  /** Releases the locks of a prefetch this client will not retrieve; returns how many. */
  async release(prefetchId: number, options: CallOptions = {}): Promise<number> {
    const { header } = await this.#call('release', { prefetchId }, [], options.timeoutMs);
    return countField(header, 'release', 'released') ?? 0;
  }

  /** Drops every unlocked object from L1 (and from L2 with `l2: true`). */
  async clear(options: CallOptions & { l2?: boolean } = {}): Promise<void> {
    await this.#call('clear', options.l2 ? { l2: true } : {}, [], options.timeoutMs);
  }

  async status(options: CallOptions = {}): Promise<ServerStatus> {
    const { header } = await this.#call('status', {}, [], options.timeoutMs);
    const { ok: _ok, ...status } = header;
    return status as unknown as ServerStatus;
  }

  /** Fails pending calls with ClosedError and closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [id, p] of this.#pending) this.#settle(id, p, 'closed', new ClosedError('TierkvClient', p.type));
    this.#socket?.close();
    this.#metrics.close();
  }

  #connect(): ClientTransport {
    const events = {
      reply: (frames: Buffer[]) => {
        this.#metrics.received(framesBytes(frames));
        this.#onReply(frames);
      },
      lost: (err: Error) => this.#lost(transport, err),
      destination: (head: readonly Buffer[], lengths: readonly number[]) => this.#destinationOf(head, lengths),
    };
    const transport: ClientTransport = tcpEndpointAddress(this.#o.endpoint) ? new TcpClientTransport(this.#o, events) : new ZeromqClientTransport(this.#o, this.#curve, events);
    return transport;
  }

  /** A TCP connection broke: its requests will get no reply; the next call connects anew. */
  #lost(transport: ClientTransport, err: Error): void {
    for (const [id, p] of this.#pending) if (p.via === transport) this.#settle(id, p, 'server_error', err);
    // Not at once: a server that is down would make that a busy loop of refused connections.
    if (this.#socket === transport) this.#socket = undefined;
  }

  /** Closes a TCP connection at once; its other requests fail as lost, the next call connects anew. */
  #dropConnection(transport: ClientTransport, why: string): void {
    this.#directId = undefined;
    transport.close();
    this.#lost(transport, new UnavailableError(`the connection to ${this.#o.endpoint} was closed: ${why}`));
  }

  /** Recreates the socket (same identity, so the server keeps this client's session). */
  #reconnect(): void {
    const now = performance.now();
    // Several calls timing out together cost one reconnect.
    if (this.#closed || now - this.#lastReconnect < Math.min(this.#o.timeoutMs, 1_000)) return;
    this.#lastReconnect = now;
    const old = this.#socket;
    this.#socket = this.#connect();
    old?.close();
    this.#metrics.reconnected();
  }

  /** A retrieve's `into` buffers for its reply's chunk frames (the reader checks their sizes). */
  #destinationOf(head: readonly Buffer[], lengths: readonly number[]): readonly Uint8Array[] | undefined {
    let id: number;
    try {
      id = decodePrelude(head[0]).id;
    } catch {
      return undefined;
    }
    const into = this.#pending.get(id)?.into;
    const count = lengths.length - 2;
    if (!into || count > into.length) return undefined;
    const buffers = into.length === count ? into : into.slice(0, count);
    // Only a reply the reader will really read into them marks the call (a timeout then closes the connection).
    if (!fitsFrames(buffers, lengths)) return undefined;
    this.#directId = id;
    return buffers;
  }

  #onReply(frames: Buffer[]): void {
    this.#directId = undefined;
    let id: number;
    let header: Record<string, unknown>;
    try {
      const prelude = decodePrelude(frames[0]);
      if (prelude.kind !== KIND_REPLY) throw new ProtocolError('not a reply');
      id = prelude.id;
      header = decodeHeader(frames[1]);
    } catch {
      this.#metrics.unmatched();
      return;
    }
    const p = this.#pending.get(id);
    if (!p) {
      this.#metrics.unmatched();
      return;
    }
    if (header['ok'] === true) {
      this.#settle(id, p, 'ok', undefined, { header, chunks: frames.length > 2 ? frames.slice(2) : [] });
    } else {
      const code = header['code'] as ErrorCode;
      const err = errorFromReply(code, String(header['message'] ?? 'error'), header['field'] as string | undefined, p.type, p.timeoutMs);
      this.#settle(id, p, code === 'BUSY' ? 'busy' : 'server_error', err);
    }
  }

  #settle(id: number, p: Pending, outcome: ClientOutcome, err?: Error, reply?: { header: Record<string, unknown>; chunks: Buffer[] }): void {
    this.#pending.delete(id);
    clearTimeout(p.timer);
    this.#metrics.request(p.type, outcome, (performance.now() - p.started) / 1000);
    if (p.span) endSpan(p.span, () => ({ [ATTR.REQUEST_OUTCOME]: outcome }), err);
    if (err) p.reject(err);
    else p.resolve(reply!);
  }

  #call(
    type: RequestType,
    body: Record<string, unknown>,
    chunks: readonly Uint8Array[],
    timeoutMs = this.#o.timeoutMs,
    into?: readonly Uint8Array[],
  ): Promise<{ header: Record<string, unknown>; chunks: Buffer[] }> {
    if (this.#closed) return Promise.reject(new ClosedError('TierkvClient', type));
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(new InvalidArgumentError('timeoutMs', `expected a positive integer, got ${String(timeoutMs)}`));
    }
    const id = this.#nextId;
    this.#nextId = this.#nextId >= MAX_ID ? 1 : this.#nextId + 1;
    body['type'] = type;
    // The server gives up a little earlier, so a slow request ends in its typed TIMEOUT reply
    // rather than in a local timeout that leaves the reply to arrive late.
    body['timeoutMs'] = Math.max(1, timeoutMs - Math.min(100, Math.floor(timeoutMs / 10)));
    const span = this.#startSpan(type, body);
    const frames = encodeRequest(id, body, chunks);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.#pending.get(id);
        if (!p) return;
        this.#settle(id, p, 'timeout', new TimeoutError(`${type} request to ${this.#o.endpoint}`, timeoutMs, 'timeoutMs (TierkvClient option or per call)'));
        // Its reply is being read into the caller's buffers: only closing the connection stops that.
        if (this.#directId === id) this.#dropConnection(p.via, `a retrieve timed out while its reply was being read into its buffers`);
        else if (this.#o.reconnectOnTimeout) this.#reconnect();
      }, timeoutMs);
      let via = this.#socket;
      if (!via) {
        via = this.#socket = this.#connect();
        this.#metrics.reconnected();
      }
      this.#pending.set(id, { type, started: performance.now(), timeoutMs, timer, span, via, into, resolve, reject });
      via.send(frames, (err) => {
        if (!err) return this.#metrics.sent(framesBytes(frames));
        const p = this.#pending.get(id);
        if (p && !this.#closed) this.#settle(id, p, 'server_error', err instanceof UnavailableError ? err : new ProtocolError(`sending ${type} failed: ${err.message}`, { cause: err }));
      });
    });
  }

  /**
   * The call's CLIENT span (child of the caller's active span), its context written into the
   * header as W3C `traceparent`/`tracestate` so the server's span continues the trace. Nothing at
   * all when no TracerProvider is registered.
   */
  #startSpan(type: RequestType, body: Record<string, unknown>): Span | undefined {
    const span = this.#tracing.start(`tierkv.client ${type}`, SpanKind.CLIENT, () => {
      const keys = body['keys'];
      const attrs: Record<string, string | number> = { [ATTR.REQUEST_TYPE]: type, [ATTR.RPC_SYSTEM]: 'tierkv', [ATTR.SERVER_ADDRESS]: this.#peer.address };
      if (this.#peer.port !== undefined) attrs[ATTR.SERVER_PORT] = this.#peer.port;
      if (Array.isArray(keys)) attrs[ATTR.KEYS_COUNT] = keys.length;
      return attrs;
    });
    if (!span) return undefined;
    // Also for an unsampled span: the server then follows the caller's decision (parent-based samplers).
    const sc = span.spanContext();
    const traceparent = formatTraceparent(sc);
    if (traceparent) {
      body['traceparent'] = traceparent;
      const state = sc.traceState?.serialize();
      if (state) body['tracestate'] = state;
    }
    return span;
  }

  #layout(layout: MemoryLayout | undefined, call: string): MemoryLayout {
    const l = layout ?? this.#o.layout;
    if (!l) throw new InvalidArgumentError('layout', `${call}() needs a layout: pass { layout } or set TierkvClientOptions.layout`);
    return l;
  }
}

/** Host and port of a ZeroMQ endpoint such as `tcp://127.0.0.1:5555` (`ipc://…` has no port). */
function peerOf(endpoint: string): { address: string; port: number | undefined } {
  const m = /^[a-z+]+:\/\/(.*?)(?::(\d+))?$/.exec(endpoint);
  if (!m) return { address: endpoint.slice(0, 200), port: undefined };
  return { address: m[1]!.replace(/^\[|\]$/g, '').slice(0, 200), port: m[2] === undefined ? undefined : Number(m[2]) };
}
