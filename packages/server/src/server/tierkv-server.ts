import { hostname } from 'node:os';
import { SpanKind, context, type Span } from '@opentelemetry/api';
import { ATTR, contextFromTraceparent, debugLogger, endSpan, ModelAttributes, TokenHasher, TracerBinding, withSpan } from '@tierkv/core';
import type { StorageUsage } from '@tierkv/storage';
import { decodeHeader, decodePrelude, encodeErrorReply, encodeHeader, encodePrelude, framesBytes } from '../protocol/codec.js';
import { KIND_REPLY, KIND_REQUEST, PROTOCOL_VERSION, type RequestType, type ServerStatus } from '../protocol/messages.js';
import { LayoutCache, parseRequest, requestTypeOf, traceFieldsOf, type ParsedRequest, type RequestLimits } from '../protocol/validation.js';
import { WireError } from '../protocol/wire-error.js';
import { SERVER_PACKAGE_VERSION } from '../version.js';
import { ClientSessions, type ClientSession } from './client-sessions.js';
import { HttpEndpoints } from './http-endpoints.js';
import { DeadlineSweep } from './deadline-sweep.js';
import { RequestContext } from './request-context.js';
import { RequestHandlers } from './request-handlers.js';
import { ServerMetrics, type ServerOutcome } from './server-metrics.js';
import { OUTCOME_OF, REJECT_OF, toWireError } from './wire-outcome.js';
import { resolveServerOptions, type ResolvedTierkvServerOptions, type TierkvServerOptions } from './server-options.js';
import type { ReplyTarget, ServerTransport } from './server-transport.js';
import { TcpTransport } from './tcp-transport.js';
import { ZeromqTransport } from './zeromq-transport.js';

const log = debugLogger('tierkv:server');
/** How late a request's TIMEOUT may fire: small next to the margin a TierkvClient leaves (it asks the server to give up min(100 ms, a tenth of the deadline) before itself). */
const DEADLINE_TICK_MS = 5;

/** Where a started server listens. */
export interface ServerAddresses {
  /** Endpoint clients connect to: `tcp://127.0.0.1:5555` (ZeroMQ) or `tierkv+tcp://127.0.0.1:5555` (plain TCP). */
  readonly endpoint: string;
  /** Base URL of the HTTP side, or undefined when it is disabled. */
  readonly httpUrl: string | undefined;
}

export type ServerState = 'created' | 'running' | 'draining' | 'closed';

/**
 * The MP-mode storage server: one process owns a StorageManager and serves many clients over a
 * transport — a ZeroMQ ROUTER socket (zeromq-transport.ts) or plain TCP (tcp-transport.ts) —
 * plus a small HTTP side.
 *
 * Requests are served concurrently up to `maxInFlight` (and `maxInFlightPerClient` per client);
 * beyond that they are refused with BUSY at once, so work never queues without bound. Both
 * transports bound reply bytes per client and in all and shed a client that does not read, so a
 * slow client cannot stall the others; both cap inbound frames before buffering them.
 */
export class TierkvServer {
  readonly #o: ResolvedTierkvServerOptions;
  readonly #transport: ServerTransport;
  readonly #sessions: ClientSessions;
  readonly #handlers: RequestHandlers;
  readonly #metrics: ServerMetrics;
  readonly #tracing: TracerBinding;
  readonly #layouts = new LayoutCache();
  readonly #limits: RequestLimits;
  readonly #http: HttpEndpoints | undefined;
  readonly #inFlight = new Set<RequestContext>();
  /** Request deadlines fire at most this late (one interval for all, see DeadlineSweep). */
  readonly #deadlines = new DeadlineSweep(DEADLINE_TICK_MS);
  readonly #startedAt = performance.now();
  #state: ServerState = 'created';
  #addresses: ServerAddresses | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #shutdown: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(options: TierkvServerOptions) {
    this.#o = resolveServerOptions(options);
    const o = this.#o;
    this.#limits = { maxKeysPerRequest: o.maxKeysPerRequest, maxTokensPerRequest: o.maxKeysPerRequest * o.chunkSize };
    this.#sessions = new ClientSessions(o.storage, { lockLeaseMs: o.lockLeaseMs, clientIdleMs: o.clientIdleMs, now: o.now }, (n) =>
      this.#metrics.locksExpired(n),
    );
    this.#metrics = new ServerMetrics(
      {
        connectedClients: () => this.#transport.connected,
        sessions: () => this.#sessions.size,
        inFlight: () => this.#inFlight.size,
        locksHeld: () => this.#sessions.locksHeld,
        replyBytesQueued: () => this.#transport.replyBytes,
      },
      { meterProvider: o.meterProvider },
      ModelAttributes.fromOption(o.perModelAttributes, 'server.perModelAttributes'),
    );
    this.#tracing = new TracerBinding({ name: '@tierkv/server', version: SERVER_PACKAGE_VERSION }, { tracerProvider: o.tracerProvider });
    const hooks = {
      onMessage: (from: ReplyTarget, frames: Buffer[], release?: () => void) => this.#onMessage(from, frames, release),
      dropSession: (id: string) => void this.#sessions.drop(id),
      metrics: this.#metrics,
    };
    this.#transport = o.transport === 'tcp' ? new TcpTransport(o, hooks) : new ZeromqTransport(o, hooks);
    this.#handlers = new RequestHandlers({
      storage: o.storage,
      sessions: this.#sessions,
      hasher: new TokenHasher({ chunkSize: o.chunkSize, seed: o.hashSeed }),
      maxReplyBytes: o.maxPayloadBytes,
      zeroCopyReplies: this.#transport.zeroCopy,
      durability: o.durability,
      version: SERVER_PACKAGE_VERSION,
      uptimeMs: () => performance.now() - this.#startedAt,
      status: () => this.status(),
    });
    this.#http =
      o.httpPort === null
        ? undefined
        : new HttpEndpoints({ healthy: () => this.#state === 'running', status: () => this.status(), metrics: o.metrics });
  }

  /**
   * `tierkv-server@<hostname>:<port>`, with the port actually bound (so `port: 0` never gives
   * `:0` and two such servers on one host stay distinct): this server's default identity at a
   * cache controller. Available after start().
   */
  get instanceId(): string {
    const endpoint = this.#addresses?.endpoint;
    if (!endpoint) throw new Error('TierkvServer.instanceId is available after start() resolves');
    return `tierkv-server@${hostname()}:${endpoint.slice(endpoint.lastIndexOf(':') + 1)}`;
  }

  get state(): ServerState {
    return this.#state;
  }

  /** The bound addresses; throws before `start()`. */
  get addresses(): ServerAddresses {
    if (!this.#addresses) throw new Error('TierkvServer.addresses is known after start() resolves');
    return this.#addresses;
  }

  get endpoint(): string {
    return this.addresses.endpoint;
  }

  get options(): Readonly<ResolvedTierkvServerOptions> {
    return this.#o;
  }

  /** Binds the request socket and the HTTP side and starts serving. */
  async start(): Promise<ServerAddresses> {
    if (this.#state !== 'created') throw new Error(`TierkvServer.start() can run once; the server is ${this.#state}`);
    this.#state = 'running';
    const o = this.#o;
    let endpoint: string;
    let httpUrl: string | undefined;
    try {
      // Bind errors pass through as they are (`code: 'EADDRINUSE'`, `address` / `port`), so callers
      // such as the CLI can name the flag to change.
      endpoint = await this.#transport.bind(o.host, o.port);
      if (this.#http && o.httpPort !== null) {
        const addr = await this.#http.listen(o.httpHost, o.httpPort);
        const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        httpUrl = `http://${h}:${addr.port}`;
      }
    } catch (err) {
      await this.#transport.close().catch(() => undefined);
      this.#state = 'closed';
      throw err;
    }
    this.#addresses = { endpoint, httpUrl };
    this.#sweeper = setInterval(() => void this.#sessions.sweep(), o.sweepIntervalMs);
    this.#sweeper.unref();
    log('serving on %s (http %s)', endpoint, httpUrl ?? 'off');
    return this.#addresses;
  }

  /** A snapshot of usage per tier, clients and requests (also served on `/status`). */
  status(): ServerStatus {
    let usage: StorageUsage;
    try {
      usage = this.#o.storage.usage();
    } catch {
      // The storage is closed (late in shutdown): report no tiers rather than fail /status.
      usage = { l1: { usedBytes: 0, capacityBytes: 0, objects: 0, byState: { writeLocked: 0, ready: 0, readLocked: 0 } }, l2: [], storeQueueDepth: 0, activePrefetches: 0 };
    }
    return {
      version: SERVER_PACKAGE_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      uptimeMs: Math.round(performance.now() - this.#startedAt),
      state: this.#state === 'created' ? 'running' : this.#state,
      tiers: [
        { tier: 'l1', usedBytes: usage.l1.usedBytes, capacityBytes: usage.l1.capacityBytes, objects: usage.l1.objects },
        ...usage.l2.map((u) => ({ tier: `l2:${u.adapter}`, usedBytes: u.usedBytes, capacityBytes: u.capacityBytes ?? null, objects: u.objects })),
      ],
      clients: { connected: this.#transport.connected, sessions: this.#sessions.size },
      requests: { inFlight: this.#inFlight.size, maxInFlight: this.#o.maxInFlight, total: this.#metrics.total },
      locks: { held: this.#sessions.locksHeld, prefetches: this.#sessions.prefetches },
      storeQueueDepth: usage.storeQueueDepth,
      activePrefetches: usage.activePrefetches,
    };
  }

  /** Reply bytes waiting in the reply queue now, and the most ever (bounded by `maxReplyBytes`). */
  get replyBytes(): { readonly queued: number; readonly peak: number } {
    return { queued: this.#transport.replyBytes, peak: this.#transport.peakReplyBytes };
  }

  /** Checks leases and idle clients now (the sweeper also does this every `sweepIntervalMs`). */
  sweep(): Promise<number> {
    return this.#sessions.sweep();
  }

  /**
   * Graceful shutdown: refuse new requests (SHUTTING_DOWN), let in-flight ones finish for up to
   * `timeoutMs` and fail the rest, release every client lock, close the StorageManager (which
   * flushes pending L2 stores), then close the sockets. Safe to call more than once.
   */
  shutdown(timeoutMs = this.#o.shutdownTimeoutMs): Promise<void> {
    this.#shutdown ??= this.#doShutdown(timeoutMs);
    return this.#shutdown;
  }

  /** Same as `shutdown()` with the configured timeout. */
  close(): Promise<void> {
    return this.shutdown();
  }

  async #doShutdown(timeoutMs: number): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'draining';
    if (this.#sweeper) clearInterval(this.#sweeper);
    if (wasRunning && this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drained = undefined;
      for (const ctx of this.#inFlight) ctx.abort(new WireError('SHUTTING_DOWN', 'the server shut down before the request finished'));
      // Aborted handlers answer on the next turns; give them those turns before closing the socket.
      await new Promise((r) => setTimeout(r, 10));
    }
    await this.#sessions.releaseAll();
    // Flush while the socket still answers SHUTTING_DOWN, so clients fail fast instead of timing out.
    let storageError: unknown;
    try {
      if (this.#o.closeStorage) await this.#o.storage.close();
    } catch (err) {
      storageError = err;
    }
    this.#deadlines.clear();
    this.#transport.clearReplies();
    await this.#transport.close();
    await this.#http?.close();
    this.#state = 'closed';
    this.#metrics.close();
    log('closed');
    if (storageError) throw storageError;
  }

  /**
   * One request message: prelude, header, chunk frames (without ZeroMQ's identity frame). Its
   * frames are read until the request was served (a store copies them into L1 before its first
   * await); only then may `release` hand their buffer to a later message.
   */
  #onMessage(from: ReplyTarget, frames: Buffer[], release?: () => void): void {
    const serving = this.#admit(from, frames);
    if (!release) return;
    if (serving) void serving.finally(release);
    else release();
  }

  /** Answers a message it refuses at once; otherwise starts serving it and returns that. */
  #admit(from: ReplyTarget, frames: Buffer[]): Promise<void> | undefined {
    const bytes = framesBytes(frames);
    this.#metrics.received(bytes);
    let id = 0;
    try {
      const prelude = decodePrelude(frames[0]);
      if (prelude.kind !== KIND_REQUEST) throw new WireError('MALFORMED', `frame 0 has kind ${prelude.kind}; requests use kind ${KIND_REQUEST}`);
      id = prelude.id;
    } catch (err) {
      return this.#reject(from, id, 'unknown', err as WireError);
    }
    if (bytes > this.#o.maxPayloadBytes) {
      return this.#reject(from, id, 'unknown', new WireError('TOO_LARGE', `the request has ${bytes} bytes; the server's maxPayloadBytes is ${this.#o.maxPayloadBytes}`, 'frames'));
    }
    if (this.#state !== 'running') {
      return this.#reject(from, id, 'unknown', new WireError('SHUTTING_DOWN', 'the server is shutting down; connect to another server or retry after it restarts'));
    }
    const session = this.#sessions.session(from.sessionId);
    if (this.#inFlight.size >= this.#o.maxInFlight) {
      return this.#reject(from, id, 'unknown', new WireError('BUSY', `the server has ${this.#inFlight.size} requests in flight (maxInFlight); retry shortly`));
    }
    if (session.inFlight >= this.#o.maxInFlightPerClient) {
      return this.#reject(from, id, 'unknown', new WireError('BUSY', `this client has ${session.inFlight} requests in flight (the server's maxInFlightPerClient); wait for replies before sending more`));
    }
    return this.#serve(from, id, frames, session);
  }

  async #serve(from: ReplyTarget, id: number, frames: Buffer[], session: ClientSession): Promise<void> {
    const started = performance.now();
    let type: RequestType | 'unknown' = 'unknown';
    let ctx: RequestContext | undefined;
    session.inFlight++;
    let reply: Uint8Array[];
    let outcome: ServerOutcome = 'ok';
    let span: Span | undefined;
    let keyCount: number | undefined;
    let scope: { modelName: string; cacheSalt: string } | undefined;
    // Runs once the reply's bytes are sent (zero-copy replies hold their L1 read locks until then).
    let onSent: (() => void) | undefined;
    try {
      const header = decodeHeader(frames[1]);
      type = requestTypeOf(header);
      span = this.#startSpan(type, header);
      const req = parseRequest(header, this.#limits, this.#layouts);
      if (span) keyCount = this.#keyCount(req);
      if (this.#o.perModelAttributes) scope = scopeOf(req);
      const timeoutMs = Math.min(req.timeoutMs ?? this.#o.requestTimeoutMs, this.#o.requestTimeoutMs);
      ctx = new RequestContext(session, timeoutMs, this.#deadlines);
      this.#inFlight.add(ctx);
      const c = ctx;
      const inChunks = frames.length > 2 ? frames.slice(2) : [];
      // The storage's spans (and the L2 calls under them) become children of the server span.
      const result = await withSpan(span, () => this.#handlers.handle(req, inChunks, c));
      onSent = result.onSent;
      if (ctx.failed) throw ctx.failed;
      const chunks = result.chunks ?? [];
      reply = new Array(2 + chunks.length);
      reply[0] = encodePrelude(KIND_REPLY, id);
      reply[1] = encodeHeader({ ok: true, ...result.header });
      for (let i = 0; i < chunks.length; i++) reply[2 + i] = chunks[i]!;
    } catch (err) {
      // The error reply carries no chunks: whatever the handler held for its reply can go now.
      onSent?.();
      onSent = undefined;
      const wire = ctx?.failed ?? toWireError(err, type);
      outcome = OUTCOME_OF[wire.code];
      const reason = REJECT_OF[wire.code];
      if (reason) this.#metrics.rejected(reason);
      reply = encodeErrorReply(id, wire.code, wire.message, wire.field);
      if (span) endSpan(span, () => ({ [ATTR.REQUEST_OUTCOME]: outcome, ...(keyCount === undefined ? {} : { [ATTR.KEYS_COUNT]: keyCount }) }), wire);
      span = undefined;
    } finally {
      session.inFlight--;
      if (ctx) {
        ctx.finish();
        this.#inFlight.delete(ctx);
      }
    }
    if (span) endSpan(span, () => ({ [ATTR.REQUEST_OUTCOME]: outcome, ...(keyCount === undefined ? {} : { [ATTR.KEYS_COUNT]: keyCount }) }));
    this.#metrics.request(type, outcome, (performance.now() - started) / 1000, scope);
    this.#send(from, reply, onSent);
    if (this.#drained && this.#inFlight.size === 0) this.#drained();
  }

  /**
   * The request's SERVER span, continuing the client's trace when the header carries a valid
   * `traceparent`; undefined when no TracerProvider is registered (nothing is parsed then).
   */
  #startSpan(type: RequestType | 'unknown', header: Record<string, unknown>): Span | undefined {
    if (!this.#tracing.tracer()) return undefined;
    const fields = traceFieldsOf(header);
    const parent = fields ? contextFromTraceparent(context.active(), fields.traceparent, fields.tracestate) : context.active();
    return this.#tracing.start(`tierkv.server ${type}`, SpanKind.SERVER, () => ({ [ATTR.REQUEST_TYPE]: type, [ATTR.RPC_SYSTEM]: 'tierkv' }), parent);
  }

  /** Keys a request names (full chunks for tokens): a bounded span attribute. */
  #keyCount(req: ParsedRequest): number | undefined {
    if (!('input' in req)) return undefined;
    return 'keys' in req.input ? req.input.keys.length : Math.floor(req.input.tokens.length / this.#o.chunkSize);
  }

  #reject(from: ReplyTarget, id: number, type: RequestType | 'unknown', err: WireError): undefined {
    const reason = REJECT_OF[err.code];
    if (reason) this.#metrics.rejected(reason);
    this.#metrics.request(type, OUTCOME_OF[err.code], 0);
    this.#send(from, encodeErrorReply(id, err.code, err.message, err.field));
  }

  /** Hands a reply to the transport; `onSent` runs when its bytes left, or were dropped. */
  #send(to: ReplyTarget, frames: Uint8Array[], onSent?: () => void): void {
    if (this.#state === 'closed') {
      onSent?.();
      return;
    }
    to.send(frames, onSent);
  }
}

/**
 * The model and cache salt of a request's chunks, for the opt-in per-model attributes: its
 * token scope, or its first key (a request's keys normally share one model and salt).
 */
function scopeOf(req: ParsedRequest): { modelName: string; cacheSalt: string } | undefined {
  if (!('input' in req)) return undefined;
  const input = req.input;
  if ('keys' in input) {
    const first = input.keys[0];
    return first ? { modelName: first.modelName, cacheSalt: first.cacheSalt } : undefined;
  }
  return { modelName: input.scope.modelName, cacheSalt: input.scope.cacheSalt ?? '' };
}
