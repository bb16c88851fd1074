import { ClosedError, debugLogger, InvalidArgumentError, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import { L1Manager, type L1Usage, type WriteMode } from '../l1/l1-manager.js';
import type { L1Listener } from '../l1/l1-listener.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { L2Usage } from '../l2/l2-adapter.js';
import type { L2Listener } from '../l2/l2-listener.js';
import { PrefetchController } from './prefetch-controller.js';
import type { PrefetchHandle, PrefetchTask } from './prefetch-handle.js';
import { PrefetchLocks } from './prefetch-locks.js';
import { reserveInOrder } from './reserve-in-order.js';
import type { StorageManagerListener } from './storage-listener.js';
import { StorageMetrics } from './storage-metrics.js';
import { resolveStorageManagerOptions, type ResolvedStorageManagerOptions, type StorageManagerOptions, type WriteRejectReason } from './storage-options.js';
import { StoreController } from './store-controller.js';

export type { StorageManagerOptions } from './storage-options.js';
export type { PrefetchHandle } from './prefetch-handle.js';

const log = debugLogger('tierkv:storage');
// L1 takes at most this many read locks per key and call (LMCache's bound).
const MAX_READERS = 128;

export interface StorageUsage {
  readonly l1: L1Usage;
  readonly l2: readonly (L2Usage & { readonly adapter: string })[];
  readonly storeQueueDepth: number;
  /** Bytes of L1 objects read-locked by queued or running write-throughs (bounded by storeQueueLimitBytes). */
  readonly storeQueueBytes?: number; // optional only so hand-made StorageUsage values (fakes, fallbacks) stay valid
  readonly activePrefetches: number;
}

/** The tier that answers for each key of a lookup, or 'miss'. */
export type Tier = 'l1' | 'l2' | 'miss';

/**
 * L1 plus an ordered list of L2 tiers, with write-through stores and prefix prefetch (after
 * LMCache's MP-mode StorageManager). Synchronous where only L1 is involved; L2 work runs in the
 * background and is awaited by `close()`.
 */
export class StorageManager {
  readonly options: ResolvedStorageManagerOptions;
  readonly #l1: L1Manager;
  readonly #adapters: readonly InstrumentedL2Adapter[];
  readonly #metrics: StorageMetrics;
  readonly #store: StoreController;
  readonly #prefetch: PrefetchController;
  readonly #locks: PrefetchLocks;
  readonly #tasks = new Map<number, PrefetchTask>();
  readonly #settled: number[] = [];
  readonly #listeners = new Set<StorageManagerListener>();
  readonly #ops = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: StorageManagerOptions) {
    this.options = resolveStorageManagerOptions(options);
    const telemetry = this.options.telemetry;
    this.#l1 = new L1Manager(this.options.l1, telemetry);
    this.#adapters = this.options.l2.map((a) => new InstrumentedL2Adapter(a, telemetry));
    this.#metrics = new StorageMetrics(
      {
        storeQueueDepth: () => this.#store.depth,
        activePrefetches: () => this.#prefetch.active,
        l2ListenerErrors: () => this.#adapters.reduce((n, a) => n + a.listenerErrors, 0),
      },
      this.options.chunkTokens,
      telemetry,
    );
    this.#locks = new PrefetchLocks(this.#l1);
    this.#store = new StoreController(this.#l1, this.#adapters, this.options, this.#metrics);
    this.#prefetch = new PrefetchController(this.#l1, this.#adapters, this.options, this.#metrics, this.#locks);
    this.#l1.addListener({
      onL1KeysEvicted: (keys, reason) => {
        // A lock TTL expiry takes a prefetched object away: nothing is left to release for it.
        if (reason === 'lock_expired') this.#locks.forget(keys);
        this.#emit((l) => l.onSmKeysEvicted?.(keys));
        // Without an L2 tier an evicted key is gone from the manager entirely.
        if (this.#adapters.length === 0) this.#emit((l) => l.onSmKeysDeleted?.(keys));
      },
    });
  }

  /** The L1 tier (for diagnostics: usage, memcheck). */
  get l1(): L1Manager {
    return this.#l1;
  }

  /** A snapshot of the keys L1 holds readable (ready or read-locked); see `L1Manager.keys()`. */
  l1Keys(): ObjectKey[] {
    this.#check('l1Keys');
    return this.#l1.keys();
  }

  /**
   * Reserves L1 memory for each key; returns one entry per key: the object, or undefined if not
   * reserved. While `writeBackpressure()` names a reason, every key is refused (back-pressure:
   * retry once the L2 write-through backlog drains), so a write that finishes always reaches L2.
   */
  reserveWrite(keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode = 'new'): (MemoryObj | undefined)[] {
    this.#check('reserveWrite');
    const refused = keys.length > 0 ? this.writeBackpressure() : undefined;
    let out: (MemoryObj | undefined)[];
    if (refused) {
      out = keys.map(() => undefined);
      if (refused === 'queue_full') this.#metrics.writeRejectedQueueFull += keys.length;
      else this.#metrics.writeRejectedQueueBytes += keys.length;
      if (log.enabled) log('write-through backlog over its bound (%s): refused %d keys', refused, keys.length);
    } else {
      out = reserveInOrder(this.#l1, keys, layout, mode).map((r) => (r.code === 'SUCCESS' ? r.obj : undefined));
    }
    const ok: ObjectKey[] = [];
    const failed: ObjectKey[] = [];
    out.forEach((o, i) => (o ? ok : failed).push(keys[i]!));
    this.#metrics.writeRequests++;
    this.#metrics.writeSucceededKeys += ok.length;
    this.#metrics.writeFailedKeys += failed.length;
    this.#emit((l) => l.onSmReservedWrite?.(ok, failed));
    return out;
  }

  /**
   * Why reserveWrite refuses every key right now, or undefined when it accepts: the L2
   * write-through backlog is over `storeQueueLimit` (`queue_full`) or `storeQueueLimitBytes`
   * (`queue_bytes`) and `storeBacklogPolicy` is `reject_writes`. A caller that got only undefined
   * from reserveWrite asks this to tell back-pressure (retry shortly) from a full or locked L1.
   */
  writeBackpressure(): WriteRejectReason | undefined {
    if (this.options.storeBacklogPolicy !== 'reject_writes') return undefined;
    return this.#store.overBound();
  }

  /** Makes the objects readable and queues their write-through to L2. Returns per-key success. */
  finishWrite(keys: readonly ObjectKey[]): boolean[] {
    this.#check('finishWrite');
    const results = this.#l1.finishWrite(keys).map((r) => r.code === 'SUCCESS');
    const ok = keys.filter((_, i) => results[i]);
    const failed = keys.filter((_, i) => !results[i]);
    this.#store.enqueue(ok);
    this.#emit((l) => l.onSmWriteFinished?.(ok, failed));
    return results;
  }

  /** Gives up reservations made by reserveWrite without publishing them. */
  abortWrite(keys: readonly ObjectKey[]): void {
    this.#check('abortWrite');
    this.#l1.abortWrite(keys);
  }

  /**
   * Locks L1 hits of the prefix and loads the rest of the contiguous prefix from L2 in the
   * background. `readers` read locks are taken per ready key (after LMCache's `num_kv_readers`:
   * several workers each read and release the same objects); release them with
   * `finishReadPrefetched(keys, readers)` or one reader at a time.
   */
  submitPrefetch(keys: readonly ObjectKey[], layout: MemoryLayout, options: { readers?: number } = {}): PrefetchHandle {
    this.#check('submitPrefetch');
    if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'expected an array of ObjectKeys in prefix order');
    const readers = options.readers ?? 1;
    if (!Number.isSafeInteger(readers) || readers < 1 || readers > MAX_READERS) {
      throw new InvalidArgumentError('readers', `expected an integer in [1, ${MAX_READERS}], got ${readers}`);
    }
    const task = this.#prefetch.submit(keys, layout, (t) => this.#onSettled(t), readers);
    this.#tasks.set(task.id, task);
    return { id: task.id };
  }

  /** Number of leading keys ready and read-locked, or undefined while loads are pending. */
  queryPrefetchStatus(handle: PrefetchHandle): number | undefined {
    this.#check('queryPrefetchStatus');
    return this.#task(handle).result;
  }

  /** Resolves when the prefetch settles, with the ready prefix length. */
  waitPrefetch(handle: PrefetchHandle): Promise<number> {
    try {
      this.#check('waitPrefetch');
      return this.#task(handle).done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The read-locked objects for all keys, or undefined if any is missing. On undefined, the
   * prefetch locks of the keys that were present are released too: the caller will not read them,
   * so nothing is left locked. With `layout`, an object prefetched with another layout counts as
   * missing (and its lock is released too): it is never handed out as if it matched.
   */
  readPrefetched(keys: readonly ObjectKey[], layout?: MemoryLayout): MemoryObj[] | undefined {
    this.#check('readPrefetched');
    const objs = keys.map((k) => this.#locks.get(k));
    const ok: ObjectKey[] = [];
    const failed: ObjectKey[] = [];
    const locked: ObjectKey[] = [];
    objs.forEach((o, i) => {
      if (o) locked.push(keys[i]!);
      (o && (!layout || o.layout.equals(layout)) ? ok : failed).push(keys[i]!);
    });
    this.#metrics.readRequests++;
    this.#metrics.readSucceededKeys += ok.length;
    this.#metrics.readFailedKeys += failed.length;
    if (failed.length > 0 && locked.length > 0) this.#locks.release(locked);
    this.#emit((l) => l.onSmReadPrefetched?.(ok, failed));
    return failed.length === 0 ? (objs as MemoryObj[]) : undefined;
  }

  /** Releases the read locks a prefetch took (`readLocks` per key, default one). */
  finishReadPrefetched(keys: readonly ObjectKey[], readLocks = 1): void {
    this.#check('finishReadPrefetched');
    if (!Number.isSafeInteger(readLocks) || readLocks < 1) throw new InvalidArgumentError('readLocks', `expected a positive integer, got ${readLocks}`);
    const { released, unknown } = this.#locks.release(keys, readLocks);
    this.#emit((l) => l.onSmReadPrefetchedFinished?.(released, unknown));
  }

  /** Where each key lives now, without loading (L2 pins taken to look are dropped at once). */
  lookup(keys: readonly ObjectKey[]): Promise<Tier[]> {
    return this.#track('lookup', () => this.#lookup(keys));
  }

  async #lookup(keys: readonly ObjectKey[]): Promise<Tier[]> {
    const out: Tier[] = this.#l1.contains(keys).map((c) => (c ? 'l1' : 'miss'));
    for (const adapter of this.#adapters) {
      const idx = out.flatMap((t, i) => (t === 'miss' ? [i] : []));
      if (idx.length === 0) break;
      const asked = idx.map((i) => keys[i]!);
      const found = await adapter.lookupAndLock(asked);
      const hit = asked.filter((_, j) => found[j]);
      idx.forEach((i, j) => {
        if (found[j]) out[i] = 'l2';
      });
      if (hit.length > 0) await adapter.unlock(hit);
    }
    return out;
  }

  /** Deletes from L1 and every L2 tier. Objects locked in L1 (being read or stored) stay there. */
  delete(keys: readonly ObjectKey[]): Promise<void> {
    return this.#track('delete', () => this.#delete(keys));
  }

  async #delete(keys: readonly ObjectKey[]): Promise<void> {
    if (keys.length === 0) return;
    // A write-through in flight holds an L1 read lock and would bring the key back into L2: let it land first.
    if (keys.some((k) => this.#store.isPending(k))) await this.#store.flush();
    const l1 = this.#l1.delete(keys);
    const l2 = await Promise.all(this.#adapters.map((a) => a.delete(keys)));
    const gone = keys.filter((_, i) => l1[i]!.code === 'SUCCESS' || l2.some((r) => r[i]));
    if (gone.length > 0) this.#emit((l) => l.onSmKeysDeleted?.(gone));
  }

  /** Drops every unlocked object from L1 (and, with `{ l2: true }`, clears L2 too). */
  clear(options: { l2?: boolean } = {}): Promise<void> {
    return this.#track('clear', () => this.#clear(options));
  }

  async #clear(options: { l2?: boolean }): Promise<void> {
    // Pending write-throughs hold read locks: let them land so clear() finds their objects unlocked.
    await this.#store.flush();
    this.#l1.clear();
    if (options.l2) await Promise.all(this.#adapters.map((a) => a.clear()));
  }

  usage(): StorageUsage {
    this.#check('usage');
    return {
      l1: this.#l1.usage(),
      l2: this.#adapters.map((a) => ({ ...a.usage(), adapter: a.name })),
      storeQueueDepth: this.#store.depth,
      storeQueueBytes: this.#store.lockedBytes,
      activePrefetches: this.#prefetch.active,
    };
  }

  /** Resolves when queued write-throughs have reached every L2 tier. */
  flush(): Promise<void> {
    if (this.#closing) return Promise.reject(new ClosedError('StorageManager', 'flush'));
    return this.#store.flush();
  }

  addListener(listener: StorageManagerListener & L1Listener & L2Listener): () => void {
    this.#check('addListener');
    this.#listeners.add(listener);
    const removers = [this.#l1.addListener(listener), ...this.#adapters.map((a) => a.addListener(listener))];
    return () => {
      this.#listeners.delete(listener);
      for (const r of removers) r();
    };
  }

  /** Waits for pending L2 stores and prefetches, closes adapters; later calls throw ClosedError. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    while (this.#ops.size > 0) await Promise.allSettled([...this.#ops]);
    await this.#prefetch.drain();
    await this.#store.flush();
    try {
      this.#locks.releaseAll();
    } catch (err) {
      if (log.enabled) log('releasing prefetch locks at close failed: %s', String(err));
    }
    const results = await Promise.allSettled(this.#adapters.map((a) => a.close()));
    this.#metrics.close();
    this.#l1.close();
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason), 'some L2 adapters failed to close');
  }

  #onSettled(task: PrefetchTask): void {
    this.#settled.push(task.id);
    while (this.#settled.length > this.options.prefetchResultsLimit) this.#tasks.delete(this.#settled.shift()!);
    this.#emit((l) => l.onSmPrefetchSubmitted?.(task.keys, task.l1Hits, task.l2Hits));
    // Up to prefetchResultsLimit settled results are kept for queryPrefetchStatus: keep them small.
    task.keys = [];
  }

  #task(handle: PrefetchHandle): PrefetchTask {
    const task = this.#tasks.get(handle?.id);
    if (!task) throw new InvalidArgumentError('handle', `unknown prefetch handle ${JSON.stringify(handle)}: it was not returned by this manager's submitPrefetch, or it is older than the last ${this.options.prefetchResultsLimit} prefetches (prefetchResultsLimit)`);
    return task;
  }

  /** Runs an async public call unless closing, and keeps it until it settles so close() can wait. */
  #track<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      this.#check(operation);
    } catch (err) {
      return Promise.reject(err);
    }
    const p = fn();
    this.#ops.add(p);
    const done = () => void this.#ops.delete(p);
    p.then(done, done);
    return p;
  }

  #check(operation: string): void {
    if (this.#closing) throw new ClosedError('StorageManager', operation);
  }

  #emit(fn: (listener: StorageManagerListener) => void): void {
    for (const l of this.#listeners) {
      try {
        fn(l);
      } catch (err) {
        this.#metrics.listenerErrors++;
        if (log.enabled) log('a StorageManager listener threw (isolated): %s', String(err));
      }
    }
  }
}
