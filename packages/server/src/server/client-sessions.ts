import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { PrefetchLease, StorageManager } from '@tierkv/storage';

/** One prefetch a client opened: the read locks on its ready prefix belong to that client. */
export interface OpenPrefetch {
  readonly id: number;
  readonly keys: readonly ObjectKey[];
  /** The storage's lease: it owns exactly this prefetch's read locks, whatever part was read. */
  readonly lease: PrefetchLease;
  readonly session: ClientSession;
  /** Leading keys ready and locked, once settled. */
  ready: number | undefined;
  /** Resolves with `ready` when the prefetch settles (0 if it failed). Never rejects. */
  readonly settled: Promise<number>;
  lastTouch: number;
  /** Requests using its locks right now (a lease never expires under them). */
  users: number;
  released: boolean;
  /** Internal to one request (retrieve without a prefetch id); released by that request. */
  readonly ephemeral: boolean;
}

/** What the server knows about one client identity (the ZeroMQ routing id). */
export interface ClientSession {
  readonly id: string;
  inFlight: number;
  lastSeen: number;
  readonly prefetches: Map<number, OpenPrefetch>;
}

export interface ClientSessionsOptions {
  readonly lockLeaseMs: number;
  readonly clientIdleMs: number;
  readonly now: () => number;
}

/**
 * Tracks clients and the L1 read locks held on their behalf. A client that vanishes (killed,
 * disconnected, or just silent) cannot pin memory: its prefetches expire after `lockLeaseMs`
 * without use and the client after `clientIdleMs`, both well inside L1's own lock TTL.
 */
export class ClientSessions {
  readonly #storage: StorageManager;
  readonly #options: ClientSessionsOptions;
  readonly #onExpired: (locks: number) => void;
  readonly #sessions = new Map<string, ClientSession>();
  #nextPrefetchId = 1;
  #locksHeld = 0;
  #prefetchCount = 0;

  constructor(storage: StorageManager, options: ClientSessionsOptions, onExpired: (locks: number) => void) {
    this.#storage = storage;
    this.#options = options;
    this.#onExpired = onExpired;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Read locks held for clients now. */
  get locksHeld(): number {
    return this.#locksHeld;
  }

  /** Prefetches open now (client-owned and request-internal). */
  get prefetches(): number {
    return this.#prefetchCount;
  }

  /** The session of `id`, created on first sight; marks it seen. */
  session(id: string): ClientSession {
    let s = this.#sessions.get(id);
    const now = this.#options.now();
    if (!s) {
      s = { id, inFlight: 0, lastSeen: now, prefetches: new Map() };
      this.#sessions.set(id, s);
    } else {
      s.lastSeen = now;
    }
    return s;
  }

  /** Submits a prefetch whose locks `session` owns until released or expired. */
  open(session: ClientSession, keys: readonly ObjectKey[], layout: MemoryLayout, ephemeral: boolean): OpenPrefetch {
    const lease = this.#storage.prefetch(keys, layout);
    const id = this.#nextPrefetchId;
    this.#nextPrefetchId = this.#nextPrefetchId >= 0xffff_fff0 ? 1 : this.#nextPrefetchId + 1;
    let resolveSettled!: (n: number) => void;
    const p: OpenPrefetch = {
      id,
      keys,
      lease,
      session,
      ready: undefined,
      settled: new Promise<number>((r) => (resolveSettled = r)),
      lastTouch: this.#options.now(),
      users: 0,
      released: false,
      ephemeral,
    };
    this.#prefetchCount++;
    if (!ephemeral) session.prefetches.set(id, p);
    const settle = (n: number) => {
      p.ready = n;
      this.#locksHeld += n;
      resolveSettled(n);
    };
    const now = lease.status();
    if (now !== undefined) settle(now);
    else lease.ready.then(settle, () => settle(0));
    return p;
  }

  /** The client's prefetch `id`, or undefined; marks it used. */
  get(session: ClientSession, id: number): OpenPrefetch | undefined {
    const p = session.prefetches.get(id);
    if (p) p.lastTouch = this.#options.now();
    return p;
  }

  /**
   * Takes the prefetch out of its session: no request of the client can name it any more, and a
   * session drop or sweep skips it. The caller releases it (a zero-copy reply, once sent).
   */
  detach(p: OpenPrefetch): void {
    if (!p.ephemeral) p.session.prefetches.delete(p.id);
  }

  /** Releases the prefetch's read locks (after it settles); returns how many. Idempotent. */
  async release(p: OpenPrefetch): Promise<number> {
    if (p.released) return 0;
    p.released = true;
    if (!p.ephemeral) p.session.prefetches.delete(p.id);
    const n = await p.settled;
    // The lease releases its own locks, all of them (also past the part a retrieve read), once;
    // locks that expired meanwhile are skipped, so another client's are never touched.
    try {
      p.lease.release();
    } catch {
      // The storage closed first: closing released every prefetch lock already.
    }
    this.#locksHeld -= n;
    this.#prefetchCount--;
    return n;
  }

  /** Releases expired leases and forgets idle clients. Returns the locks released. */
  async sweep(): Promise<number> {
    const now = this.#options.now();
    const { lockLeaseMs, clientIdleMs } = this.#options;
    const releases: Promise<number>[] = [];
    for (const s of this.#sessions.values()) {
      for (const p of s.prefetches.values()) {
        if (p.users === 0 && now - p.lastTouch >= lockLeaseMs) releases.push(this.release(p));
      }
      if (s.inFlight === 0 && now - s.lastSeen >= clientIdleMs) {
        for (const p of s.prefetches.values()) if (p.users === 0) releases.push(this.release(p));
        if (s.prefetches.size === 0) this.#sessions.delete(s.id);
      }
    }
    return this.#expired(releases);
  }

  /** The client is gone (its reply could not be routed): release everything it held. */
  async drop(id: string): Promise<number> {
    const s = this.#sessions.get(id);
    if (!s) return 0;
    const releases: Promise<number>[] = [];
    for (const p of s.prefetches.values()) if (p.users === 0) releases.push(this.release(p));
    if (s.inFlight === 0) this.#sessions.delete(id);
    return this.#expired(releases);
  }

  /** Releases every client-owned prefetch (shutdown). */
  async releaseAll(): Promise<void> {
    const releases: Promise<number>[] = [];
    for (const s of this.#sessions.values()) for (const p of s.prefetches.values()) releases.push(this.release(p));
    await Promise.all(releases);
    this.#sessions.clear();
  }

  async #expired(releases: Promise<number>[]): Promise<number> {
    if (releases.length === 0) return 0;
    const n = (await Promise.all(releases)).reduce((a, b) => a + b, 0);
    if (n > 0) this.#onExpired(n);
    return n;
  }
}
