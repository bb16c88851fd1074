import { ClosedError, encodeKey, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { MemoryObj, PrefetchHandle, StorageManager, StorageUsage, Tier, WriteMode, WriteRejectReason } from '@tierkv/storage';

interface Entry {
  obj: MemoryObj;
  ready: boolean;
  locks: number;
}

/**
 * A Map-backed stand-in for StorageManager with the same lock semantics the server relies on:
 * a prefetch read-locks the ready prefix, readPrefetched hands out the locked objects, and
 * finishReadPrefetched releases them. `prefetchDelayMs` simulates L2 loads that take time.
 */
export class FakeStorage {
  readonly entries = new Map<string, Entry>();
  readonly #prefetches = new Map<number, { ready: number | undefined; done: Promise<number> }>();
  #nextHandle = 1;
  prefetchDelayMs = 0;
  closed = false;
  closeCalls = 0;
  /** Set to make reserveWrite refuse every key, as a StorageManager does while its L2 write-through is behind. */
  backpressure: WriteRejectReason | undefined = undefined;

  asStorageManager(): StorageManager {
    return this as unknown as StorageManager;
  }

  /** Read locks currently held, over all objects. */
  locksHeld(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.locks;
    return n;
  }

  reserveWrite(keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode = 'new'): (MemoryObj | undefined)[] {
    this.#check('reserveWrite');
    if (this.backpressure) return keys.map(() => undefined);
    return keys.map((key) => {
      const k = encodeKey(key);
      const cur = this.entries.get(k);
      if (cur && (mode === 'new' || cur.locks > 0 || !cur.ready)) return undefined;
      if (!cur && mode === 'update') return undefined;
      const obj: MemoryObj = { key, layout, data: new Uint8Array(layout.byteSize) };
      this.entries.set(k, { obj, ready: false, locks: 0 });
      return obj;
    });
  }

  writeBackpressure(): WriteRejectReason | undefined {
    return this.backpressure;
  }

  finishWrite(keys: readonly ObjectKey[]): boolean[] {
    this.#check('finishWrite');
    return keys.map((key) => {
      const e = this.entries.get(encodeKey(key));
      if (!e || e.ready) return false;
      e.ready = true;
      return true;
    });
  }

  /** StorageManager.reserve: an owned reservation over reserveWrite/finishWrite. */
  reserve(keys: readonly ObjectKey[], layout: MemoryLayout, options: { mode?: WriteMode } = {}) {
    const objects = this.reserveWrite(keys, layout, options.mode ?? 'new');
    const own = keys.filter((_, i) => objects[i]);
    let done = false;
    return {
      keys,
      objects,
      reserved: own.length,
      commit: (): boolean[] => {
        if (done) return keys.map(() => false);
        done = true;
        const ok = this.finishWrite(own);
        let j = 0;
        return objects.map((o) => (o ? ok[j++] === true : false));
      },
      abort: (): void => {
        if (done) return;
        done = true;
        this.abortWrite(own);
      },
    };
  }

  /** StorageManager.prefetch: a lease owning the locks of its ready prefix, released once. */
  prefetch(keys: readonly ObjectKey[], layout: MemoryLayout) {
    const handle = this.submitPrefetch(keys, layout);
    let released = false;
    let n: number | undefined = this.queryPrefetchStatus(handle);
    const ready = this.waitPrefetch(handle).then((r) => {
      n = r;
      if (released) this.finishReadPrefetched(keys.slice(0, r));
      return r;
    });
    return {
      id: handle.id,
      keys,
      ready,
      status: () => n,
      objects: (): MemoryObj[] => (released || n === undefined ? [] : keys.slice(0, n).map((k) => this.entries.get(encodeKey(k))!.obj)),
      release: (): number => {
        if (released) return 0;
        released = true;
        if (n !== undefined) this.finishReadPrefetched(keys.slice(0, n));
        return n ?? 0;
      },
    };
  }

  abortWrite(keys: readonly ObjectKey[]): void {
    this.#check('abortWrite');
    for (const key of keys) {
      const e = this.entries.get(encodeKey(key));
      if (e && !e.ready) this.entries.delete(encodeKey(key));
    }
  }

  submitPrefetch(keys: readonly ObjectKey[], _layout: MemoryLayout): PrefetchHandle {
    this.#check('submitPrefetch');
    const id = this.#nextHandle++;
    const lockPrefix = () => {
      let n = 0;
      while (n < keys.length) {
        const e = this.entries.get(encodeKey(keys[n]!));
        if (!e || !e.ready) break;
        e.locks++;
        n++;
      }
      return n;
    };
    if (this.prefetchDelayMs <= 0) {
      const n = lockPrefix();
      this.#prefetches.set(id, { ready: n, done: Promise.resolve(n) });
    } else {
      const state: { ready: number | undefined; done: Promise<number> } = { ready: undefined, done: Promise.resolve(0) };
      state.done = new Promise((resolve) =>
        setTimeout(() => {
          state.ready = lockPrefix();
          resolve(state.ready);
        }, this.prefetchDelayMs),
      );
      this.#prefetches.set(id, state);
    }
    return { id };
  }

  queryPrefetchStatus(handle: PrefetchHandle): number | undefined {
    return this.#prefetches.get(handle.id)?.ready;
  }

  waitPrefetch(handle: PrefetchHandle): Promise<number> {
    return this.#prefetches.get(handle.id)?.done ?? Promise.resolve(0);
  }

  readPrefetched(keys: readonly ObjectKey[]): MemoryObj[] | undefined {
    this.#check('readPrefetched');
    const out: MemoryObj[] = [];
    for (const key of keys) {
      const e = this.entries.get(encodeKey(key));
      if (!e || e.locks === 0) return undefined;
      out.push(e.obj);
    }
    return out;
  }

  finishReadPrefetched(keys: readonly ObjectKey[]): void {
    this.#check('finishReadPrefetched');
    for (const key of keys) {
      const e = this.entries.get(encodeKey(key));
      if (e && e.locks > 0) e.locks--;
    }
  }

  /** Never settles at once: the server then takes the async lookup() (its deadline and failures). */
  lookupNow(): Tier[] | undefined {
    return undefined;
  }

  async lookup(keys: readonly ObjectKey[]): Promise<Tier[]> {
    return keys.map((k) => (this.entries.get(encodeKey(k))?.ready ? 'l1' : 'miss'));
  }

  async delete(keys: readonly ObjectKey[]): Promise<void> {
    for (const k of keys) this.entries.delete(encodeKey(k));
  }

  async clear(): Promise<void> {
    for (const [k, e] of this.entries) if (e.locks === 0 && e.ready) this.entries.delete(k);
  }

  usage(): StorageUsage {
    let used = 0;
    for (const e of this.entries.values()) used += e.obj.data.byteLength;
    return {
      l1: { usedBytes: used, capacityBytes: 1 << 30, objects: this.entries.size, byState: { writeLocked: 0, ready: this.entries.size, readLocked: 0 } },
      l2: [],
      storeQueueDepth: 0,
      activePrefetches: 0,
    };
  }

  addListener(): () => void {
    return () => undefined;
  }

  #check(op: string): void {
    // Like StorageManager: nothing works after close().
    if (this.closed) throw new ClosedError('StorageManager', op);
  }

  async close(): Promise<void> {
    this.closeCalls++;
    this.closed = true;
  }
}
