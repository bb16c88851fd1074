import { encodeKey, keysEqual, TokenHasher, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { MemoryObj, StorageManager } from '@tierkv/storage';
import type { Durability, LookupReply, PingReply, PrefetchStatusReply, ReleaseReply, RetrieveReply, ServerStatus, StoreReply, WireStoreOutcome, WireTier } from '../protocol/messages.js';
import type { KeyInput, ParsedRequest } from '../protocol/validation.js';
import { WireError } from '../protocol/wire-error.js';
import type { ClientSessions, OpenPrefetch } from './client-sessions.js';
import type { RequestContext } from './request-context.js';

/** A reply: the header fields (besides `ok`) and the chunk frames that follow it. */
export interface HandlerReply {
  readonly header: object;
  readonly chunks?: Uint8Array[];
  /**
   * Set when `chunks` are views of L1 memory: the server calls it once the reply's bytes left (or
   * were dropped), and it releases the read locks that kept those bytes from being evicted.
   */
  readonly onSent?: () => void;
}

export interface RequestHandlerDeps {
  readonly storage: StorageManager;
  readonly sessions: ClientSessions;
  readonly hasher: TokenHasher;
  /** A retrieve returns at most this many bytes of chunks (at least one chunk); the client asks again for the rest. */
  readonly maxReplyBytes: number;
  /**
   * Retrieve replies are the L1 objects themselves (locks held until `onSent`), not copies: only
   * for a transport that reports when the bytes left (TCP; ZeroMQ's I/O thread does not).
   */
  readonly zeroCopyReplies: boolean;
  /** What a store's acknowledgement waits for when the request does not say. */
  readonly durability: Durability;
  readonly version: string;
  readonly uptimeMs: () => number;
  readonly status: () => ServerStatus;
}

/** Serves each request type against the StorageManager. */
export class RequestHandlers {
  readonly #d: RequestHandlerDeps;

  constructor(deps: RequestHandlerDeps) {
    this.#d = deps;
  }

  /**
   * `chunks` are views of the connection's receive buffer, reused for a later message once the
   * returned reply (or promise) settles: copy what must outlive that, never keep the views.
   */
  handle(req: ParsedRequest, chunks: readonly Uint8Array[], ctx: RequestContext): HandlerReply | Promise<HandlerReply> {
    if (req.type !== 'store' && chunks.length > 0) {
      throw new WireError('BAD_REQUEST', `a ${req.type} request carries no chunk frames, got ${chunks.length}`, 'frames');
    }
    switch (req.type) {
      case 'ping':
        return { header: { version: this.#d.version, uptimeMs: Math.round(this.#d.uptimeMs()) } satisfies PingReply };
      case 'status':
        return { header: this.#d.status() };
      case 'store':
        return this.#store(req, chunks, ctx);
      case 'retrieve':
        return this.#retrieve(req, ctx);
      case 'lookup':
        return this.#lookup(req, ctx);
      case 'prefetch_status':
        return this.#prefetchStatus(req, ctx);
      case 'release':
        return this.#release(req, ctx);
      case 'clear':
        return ctx.within(this.#d.storage.clear({ l2: req.l2 })).then(() => ({ header: { cleared: true } }));
    }
  }

  #keys(input: KeyInput): { keys: ObjectKey[]; echo: string[] | undefined } {
    if ('keys' in input) return { keys: input.keys, echo: undefined };
    const keys = this.#d.hasher.keysFor(input.tokens, input.scope);
    return { keys, echo: keys.map(encodeKey) };
  }

  #store(req: Extract<ParsedRequest, { type: 'store' }>, chunks: readonly Uint8Array[], ctx: RequestContext): HandlerReply | Promise<HandlerReply> {
    const durability = req.durability ?? this.#d.durability;
    const { keys, echo } = this.#keys(req.input);
    if (chunks.length !== keys.length) {
      throw new WireError('BAD_REQUEST', `${keys.length} keys but ${chunks.length} chunk frames; send one frame per key`, 'frames');
    }
    const size = req.layout.byteSize;
    for (let i = 0; i < chunks.length; i++) {
      if (chunks[i]!.byteLength !== size) {
        throw new WireError('LAYOUT_MISMATCH', `chunk ${i} has ${chunks[i]!.byteLength} bytes but layout ${req.layout.toString()} needs ${size}`, `frames[${i}]`);
      }
    }
    const storage = this.#d.storage;
    // Refused before anything is stored: an `l2` acknowledgement could not be honoured.
    if (durability === 'l2' && storage.options.l2.length === 0) {
      throw new WireError('BAD_REQUEST', "durability 'l2' needs an L2 tier, and this server's storage has none; store with durability 'memory' or give the server an L2 tier", 'durability');
    }
    // A reservation of this request's own: it commits or aborts only its slots, whatever other
    // clients do to the same keys meanwhile.
    const reservation = storage.reserve(keys, req.layout, { mode: req.mode });
    const objs = reservation.objects;
    if (keys.length > 0 && objs.every((o) => o === undefined)) {
      // Back-pressure from the L2 write-through: nothing was reserved, so a retry is safe and
      // nothing was acknowledged (a plain `stored: false` would read as a final refusal).
      const backlog = storage.writeBackpressure();
      if (backlog) throw new WireError('BUSY', `the storage's write-through to L2 is behind (${backlog === 'queue_full' ? 'storeQueueLimit batches queued' : 'storeQueueLimitBytes of L1 held'}); nothing was stored, retry shortly`);
    }
    try {
      for (let i = 0; i < objs.length; i++) objs[i]?.data.set(chunks[i]!);
    } catch (err) {
      reservation.abort();
      throw err;
    }
    if (durability === 'l2') return this.#storeDurable(reservation.commit({ durable: true }), echo, ctx);
    const stored = reservation.commit();
    const header: StoreReply = echo ? { stored, durability, keys: echo } : { stored, durability };
    return { header };
  }

  /**
   * The reply waits for the L2 stores. A deadline or shutdown answers TIMEOUT/SHUTTING_DOWN instead
   * (nothing acknowledged); the write-through itself goes on.
   */
  async #storeDurable(pending: Promise<WireStoreOutcome[]>, echo: string[] | undefined, ctx: RequestContext): Promise<HandlerReply> {
    const outcomes = await ctx.within(pending);
    const stored = outcomes.map((o) => o === 'durable');
    const header: StoreReply = { stored, durability: 'l2', outcomes, ...(echo ? { keys: echo } : {}) };
    return { header };
  }

  async #retrieve(req: Extract<ParsedRequest, { type: 'retrieve' }>, ctx: RequestContext): Promise<HandlerReply> {
    const { keys, echo } = this.#keys(req.input);
    const sessions = this.#d.sessions;
    let p: OpenPrefetch;
    if (req.prefetchId !== undefined) {
      const owned = sessions.get(ctx.session, req.prefetchId);
      if (!owned) throw new WireError('NOT_FOUND', `prefetch ${req.prefetchId} is unknown, released or expired; look the keys up again`, 'prefetchId');
      if (owned.keys.length < keys.length || !keys.every((k, i) => keysEqual(k, owned.keys[i]!))) {
        throw new WireError('BAD_REQUEST', `the keys are not a prefix of prefetch ${req.prefetchId}'s keys`, 'keys');
      }
      p = owned;
    } else {
      if (keys.length === 0) return { header: replyOf(0, echo) };
      p = sessions.open(ctx.session, keys, req.layout, true);
    }
    p.users++;
    let handedOver = false;
    try {
      const cap = Math.max(1, Math.floor(this.#d.maxReplyBytes / req.layout.byteSize));
      const ready = Math.min(await ctx.within(p.settled), keys.length, cap);
      // A prefetch ends at an object of another layout (never hands it out): say why nothing came back.
      const first = ready === 0 ? this.#storedState(keys[0]!) : undefined;
      if (first && first.state !== 'write_locked' && !first.layout.equals(req.layout)) {
        throw new WireError('LAYOUT_MISMATCH', `chunk 0 is stored with layout ${first.layout.toString()}, not ${req.layout.toString()}`, 'layout');
      }
      // Only what the lease still holds (a lock TTL that ran out ends the prefix there).
      const objs = ready > 0 ? p.lease.objects().slice(0, ready) : [];
      if (objs.length > 0 && this.#d.zeroCopyReplies) {
        const chunks = views(objs, req.layout);
        // The lease now belongs to this reply: no release request, sweep or session drop may end it
        // while the socket still reads the views; the reply's onSent does.
        sessions.detach(p);
        handedOver = true;
        return { header: replyOf(chunks.length, echo), chunks, onSent: () => void sessions.release(p) };
      }
      const chunks = objs.length > 0 ? this.#copyOut(objs, req.layout) : [];
      return { header: replyOf(chunks.length, echo), chunks };
    } finally {
      p.users--;
      // A retrieve consumes its prefetch: copied out (or failed), no lock outlives the request.
      if (!handedOver) void sessions.release(p);
    }
  }

  /** What L1 holds for a key (state, layout), or undefined: absent, or the storage cannot tell (closed). */
  #storedState(key: ObjectKey): { state: string; layout: MemoryLayout } | undefined {
    try {
      return this.#d.storage.l1?.inspect(key);
    } catch {
      return undefined;
    }
  }

  /**
   * Copies the locked objects into one reply buffer (the ZeroMQ transport). The copy is deliberate: ZeroMQ sends a
   * buffer zero-copy and reads it on its I/O thread after send() resolves, so sending L1 views
   * and then releasing their locks would let eviction overwrite bytes still being sent to a slow
   * client. One memcpy per chunk is cheap next to the socket, and locks are held only for it.
   */
  #copyOut(objs: readonly MemoryObj[], layout: MemoryLayout): Uint8Array[] {
    const size = layout.byteSize;
    checkLayouts(objs, layout);
    const out = Buffer.allocUnsafeSlow(size * objs.length);
    const chunks: Uint8Array[] = new Array(objs.length);
    for (let i = 0; i < objs.length; i++) {
      const view = out.subarray(i * size, (i + 1) * size);
      view.set(objs[i]!.data);
      chunks[i] = view;
    }
    return chunks;
  }

  async #lookup(req: Extract<ParsedRequest, { type: 'lookup' }>, ctx: RequestContext): Promise<HandlerReply> {
    const { keys, echo } = this.#keys(req.input);
    const storage = this.#d.storage;
    // Answered from L1 at once when it can be: no promise, no deadline to watch.
    const tiers = (storage.lookupNow(keys) ?? (await ctx.within(storage.lookup(keys)))) as WireTier[];
    const reply: LookupReply = { tiers };
    if (echo) reply.keys = echo;
    if (!req.prefetch || keys.length === 0 || tiers[0] === 'miss') {
      if (req.prefetch) reply.ready = 0;
      return { header: reply };
    }
    const p = this.#d.sessions.open(ctx.session, keys, req.layout, false);
    reply.prefetchId = p.id;
    if (req.wait) {
      p.users++;
      try {
        reply.ready = await ctx.within(p.settled);
      } catch (err) {
        void this.#d.sessions.release(p);
        throw err;
      } finally {
        p.users--;
      }
    } else if (p.ready !== undefined) {
      reply.ready = p.ready;
    }
    return { header: reply };
  }

  async #prefetchStatus(req: Extract<ParsedRequest, { type: 'prefetch_status' }>, ctx: RequestContext): Promise<HandlerReply> {
    const p = this.#d.sessions.get(ctx.session, req.prefetchId);
    if (!p) throw new WireError('NOT_FOUND', `prefetch ${req.prefetchId} is unknown, released or expired`, 'prefetchId');
    if (req.wait && p.ready === undefined) {
      p.users++;
      try {
        await ctx.within(p.settled);
      } catch (err) {
        // The deadline passed while loads are pending: answer "pending" rather than fail.
        if (!(err instanceof WireError && err.code === 'TIMEOUT')) throw err;
      } finally {
        p.users--;
      }
    }
    const header: PrefetchStatusReply = p.ready === undefined ? {} : { ready: p.ready };
    return { header };
  }

  async #release(req: Extract<ParsedRequest, { type: 'release' }>, ctx: RequestContext): Promise<HandlerReply> {
    const p = this.#d.sessions.get(ctx.session, req.prefetchId);
    if (!p) throw new WireError('NOT_FOUND', `prefetch ${req.prefetchId} is unknown, released or expired`, 'prefetchId');
    const released = await ctx.within(this.#d.sessions.release(p));
    return { header: { released } satisfies ReleaseReply };
  }
}

function checkLayouts(objs: readonly MemoryObj[], layout: MemoryLayout): void {
  for (let i = 0; i < objs.length; i++) {
    if (!objs[i]!.layout.equals(layout)) {
      throw new WireError('LAYOUT_MISMATCH', `chunk ${i} is stored with layout ${objs[i]!.layout.toString()}, not ${layout.toString()}`, 'layout');
    }
  }
}

/** The locked objects' own bytes, for a zero-copy reply. */
function views(objs: readonly MemoryObj[], layout: MemoryLayout): Uint8Array[] {
  checkLayouts(objs, layout);
  return objs.map((o) => o.data);
}

function replyOf(count: number, echo: string[] | undefined): RetrieveReply {
  return echo ? { count, keys: echo } : { count };
}
