import { SpanKind } from '@opentelemetry/api';
import { ATTR, ClosedError, debugLogger, endSpan, endSpanWhen, InvalidArgumentError, MemoryLayout, TracerBinding, withSpan, type ObjectKey } from '@tierkv/core';
import { L1Manager, type WriteMode } from '../l1/l1-manager.js';
import type { L1Listener } from '../l1/l1-listener.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import { checkReadLocks } from '../l1/read-lock-limit.js';
import { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { L2Listener } from '../l2/l2-listener.js';
import { DeleteTracker, type DeleteOutcome } from './delete-tracker.js';
import { isDurable, refuseDurableWithoutL2, type CommitOptions, type DurableOutcome } from './durable-commit.js';
import { KeyOwner } from './key-owner.js';
import { lookupTiers, lookupTiersInL1, tierAttributes } from './lookup-tiers.js';
import { checkKeyList } from './key-checks.js';
import { PrefetchController } from './prefetch-controller.js';
import type { PrefetchHandle, PrefetchTask } from './prefetch-handle.js';
import { PrefetchLease } from './prefetch-lease.js';
import type { StorageManagerListener } from './storage-listener.js';
import { StorageMetrics } from './storage-metrics.js';
import { resolveStorageManagerOptions, type ResolvedStorageManagerOptions, type StorageManagerOptions, type WriteRejectReason } from './storage-options.js';
import { StoreController } from './store-controller.js';
import type { ReserveOptions, StorageUsage, Tier } from './storage-types.js';
import { WritePath } from './write-path.js';
import { WriteReservation, type ReservationOwner } from './write-reservation.js';

export type { StorageManagerOptions } from './storage-options.js';
export type { PrefetchHandle } from './prefetch-handle.js';
export type { DeleteOutcome } from './delete-tracker.js';
export type { CommitOptions, DurableOutcome } from './durable-commit.js';
export type { ReserveOptions, StorageUsage, Tier } from './storage-types.js';

const log = debugLogger('tierkv:storage');
const STORAGE_TRACER_SCOPE = Object.freeze({ name: '@tierkv/storage', version: '0.1.0' });
const INTERNAL = SpanKind.INTERNAL;

/**
 * L1 plus an ordered list of L2 tiers, with write-through stores and prefix prefetch (after
 * LMCache's MP-mode StorageManager). Synchronous where only L1 is involved; L2 work runs in the
 * background and is awaited by `close()`.
 *
 * The front door is owned objects: `reserve()` returns a `WriteReservation` that commits or aborts
 * only its own slots, `prefetch()` a `PrefetchLease` that owns its read locks. The LMCache-shaped
 * batch calls (`reserveWrite` … `finishReadPrefetched`) are one more owner on top of them: they
 * finish and release only what they reserved or prefetched themselves, and refuse any other key.
 */
export class StorageManager {
  readonly options: ResolvedStorageManagerOptions;
  readonly #l1: L1Manager;
  readonly #adapters: readonly InstrumentedL2Adapter[];
  readonly #metrics: StorageMetrics;
  readonly #store: StoreController;
  readonly #prefetch: PrefetchController;
  readonly #deletes: DeleteTracker;
  readonly #keyOwner: KeyOwner;
  readonly #tasks = new Map<number, PrefetchTask>();
  /** Ids of the last prefetchResultsLimit settled prefetches, a ring (a shift() per settle would move the whole array). */
  readonly #settled: number[] = [];
  #settledNext = 0;
  readonly #listeners = new Set<StorageManagerListener>();
  readonly #ops = new Set<Promise<unknown>>();
  readonly #reservationOwner: ReservationOwner;
  readonly #writes: WritePath;
  readonly #tracing: TracerBinding;
  #closing: Promise<void> | undefined;

  constructor(options: StorageManagerOptions) {
    this.options = resolveStorageManagerOptions(options);
    const telemetry = this.options.telemetry;
    this.#tracing = new TracerBinding(STORAGE_TRACER_SCOPE, telemetry);
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
      this.options.modelAttributes,
    );
    this.#store = new StoreController(this.#l1, this.#adapters, this.options, this.#metrics);
    this.#deletes = new DeleteTracker(this.#l1, this.#adapters, this.#store);
    this.#prefetch = new PrefetchController(this.#l1, this.#adapters, this.options, this.#metrics, (k) => this.#deletes.isTombstoned(k));
    this.#keyOwner = new KeyOwner(this.#l1);
    this.#writes = new WritePath({
      l1: this.#l1,
      store: this.#store,
      deletes: this.#deletes,
      metrics: this.#metrics,
      tracing: this.#tracing,
      backpressure: () => this.writeBackpressure(),
      check: (operation) => this.#check(operation),
      emit: (fn) => this.#emit(fn),
    });
    this.#reservationOwner = {
      commit: (keys, gens, temporary, span) => this.#writes.commit(keys, gens, temporary, false, span),
      checkDurable: () => refuseDurableWithoutL2(this.#adapters.length),
      commitDurable: (keys, gens, span) => this.#writes.commit(keys, gens, false, true, span),
      abort: (keys, gens) => void this.#l1.abortWrite(keys, gens),
    };
    this.#l1.addListener({
      onL1KeysEvicted: (keys) => {
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

  // --- owned objects -------------------------------------------------------------------------

  /**
   * Reserves L1 memory for each key (what fits, in key order) and returns the reservation that
   * owns it. While `writeBackpressure()` names a reason every key is refused (retry once the L2
   * write-through backlog drains), so a committed write always reaches L2.
   */
  reserve(keys: readonly ObjectKey[], layout: MemoryLayout, options: ReserveOptions = {}): WriteReservation {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected an object { mode?, temporary? }');
    const temporary = options.temporary === true;
    // One span for the whole store, reserve to commit (or abort): the reservation carries it.
    const { objs, gens, span } = this.#writes.reserve('reserve', keys, layout, options.mode ?? 'new', temporary, 'tierkv.storage.store');
    return new WriteReservation(this.#reservationOwner, [...keys], objs, gens, temporary, span);
  }

  /**
   * Starts a prefetch of the longest cached prefix of `keys` (L1 hits locked at once, L2 hits
   * loaded into L1 in the background) and returns the lease that owns its read locks: await
   * `lease.ready`, read `lease.objects()`, then `lease.release()`. `readers` locks are taken per
   * key (after LMCache's `num_kv_readers`); each reader may `release(1)`.
   */
  prefetch(keys: readonly ObjectKey[], layout: MemoryLayout, options: { readers?: number } = {}): PrefetchLease {
    const task = this.#startPrefetch('prefetch', keys, layout, options);
    return new PrefetchLease(this.#l1, task, [...keys], layout);
  }

  /**
   * Why reserve/reserveWrite refuses every key right now, or undefined when it accepts: the L2
   * write-through backlog is over `storeQueueLimit` (`queue_full`) or `storeQueueLimitBytes`
   * (`queue_bytes`) and `storeBacklogPolicy` is `reject_writes`. A caller that got nothing from a
   * reservation asks this to tell back-pressure (retry shortly) from a full or locked L1.
   */
  writeBackpressure(): WriteRejectReason | undefined {
    if (this.options.storeBacklogPolicy !== 'reject_writes') return undefined;
    return this.#store.overBound();
  }

  // --- the LMCache-shaped batch calls (one owner: this key-based surface) -----------------------

  /**
   * Reserves L1 memory for each key; one entry per key: the object, or undefined if not reserved.
   * The reservations belong to this key-based surface: finishWrite/abortWrite of these keys
   * publish or drop them; no other reservation can be finished by key.
   */
  reserveWrite(keys: readonly ObjectKey[], layout: MemoryLayout, mode: WriteMode = 'new', options: { temporary?: boolean } = {}): (MemoryObj | undefined)[] {
    const temporary = options?.temporary === true;
    const { objs, gens } = this.#writes.reserve('reserveWrite', keys, layout, mode, temporary, 'tierkv.storage.reserve');
    this.#keyOwner.addReservations(keys, objs, gens, temporary);
    return objs;
  }

  /**
   * Publishes the keys this surface reserved and queues their write-through to L2. Result i is
   * false for a key it does not hold (never reserved here, finished already, expired and
   * reissued, or reserved by a prefetch or another owner): that key is left untouched.
   * With `{ durable: true }` it resolves once each key's write-through settled, with a
   * DurableOutcome per key (`not_stored` for a key not held, `l2_skipped` for a temporary one);
   * without an L2 tier it throws ConfigError (`storage.l2`) and finishes nothing.
   */
  finishWrite(keys: readonly ObjectKey[], options?: CommitOptions & { durable?: false }): boolean[];
  finishWrite(keys: readonly ObjectKey[], options: CommitOptions & { durable: true }): Promise<DurableOutcome[]>;
  finishWrite(keys: readonly ObjectKey[], options?: CommitOptions): boolean[] | Promise<DurableOutcome[]>;
  finishWrite(keys: readonly ObjectKey[], options?: CommitOptions): boolean[] | Promise<DurableOutcome[]> {
    this.#check('finishWrite');
    checkKeyList(keys);
    const refused = (ks: readonly ObjectKey[]) => this.#emit((l) => l.onSmWriteFinished?.([], ks));
    if (!isDurable(options)) return this.#keyOwner.finish(keys, (ks, gens, temporary) => this.#writes.commit(ks, gens, temporary), refused, false);
    refuseDurableWithoutL2(this.#adapters.length);
    const notHeld: Promise<DurableOutcome> = Promise.resolve('not_stored');
    return Promise.all(this.#keyOwner.finish(keys, (ks, gens, temporary) => this.#writes.commit(ks, gens, temporary, true), refused, notHeld));
  }

  /** Gives up reservations this surface made by reserveWrite, without publishing them. */
  abortWrite(keys: readonly ObjectKey[]): void {
    this.#check('abortWrite');
    checkKeyList(keys);
    this.#keyOwner.abort(keys);
  }

  /** `prefetch()` for the key-based surface: the locks are read and released by key. */
  submitPrefetch(keys: readonly ObjectKey[], layout: MemoryLayout, options: { readers?: number } = {}): PrefetchHandle {
    const task = this.#startPrefetch('submitPrefetch', keys, layout, options);
    this.#keyOwner.addPrefetch(task);
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
   * The read-locked objects for all keys, or undefined if any is not held by this surface's
   * prefetches (never prefetched, released, or its lock expired). On undefined the locks of the
   * keys that were held are released too: the caller will not read them. With `layout`, an object
   * of another layout counts as missing.
   */
  readPrefetched(keys: readonly ObjectKey[], layout?: MemoryLayout): MemoryObj[] | undefined {
    this.#check('readPrefetched');
    checkKeyList(keys);
    if (layout !== undefined && !(layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance or undefined');
    const span = this.#tracing.start('tierkv.storage.read', INTERNAL);
    const { objs, ok, failed } = this.#keyOwner.read(keys, layout);
    if (span) endSpan(span, () => ({ [ATTR.KEYS_COUNT]: keys.length, [ATTR.KEYS_READ]: ok.length }));
    this.#metrics.readRequests++;
    this.#metrics.readSucceededKeys += ok.length;
    this.#metrics.readFailedKeys += failed.length;
    this.#emit((l) => l.onSmReadPrefetched?.(ok, failed));
    return objs;
  }

  /** Releases read locks this surface's prefetches took (`readLocks` per key, default one). */
  finishReadPrefetched(keys: readonly ObjectKey[], readLocks = 1): void {
    this.#check('finishReadPrefetched');
    checkKeyList(keys);
    checkReadLocks(readLocks);
    const { released, unknown } = this.#keyOwner.release(keys, readLocks);
    this.#emit((l) => l.onSmReadPrefetchedFinished?.(released, unknown));
  }

  // --- whole-manager calls -------------------------------------------------------------------

  /** Where each key lives now, without loading (L2 pins taken to look are dropped at once). */
  lookup(keys: readonly ObjectKey[]): Promise<Tier[]> {
    const span = this.#tracing.start('tierkv.storage.lookup', INTERNAL);
    if (!span) return this.#track('lookup', () => this.#lookup(keys));
    const p = withSpan(span, () => this.#track('lookup', () => this.#lookup(keys)));
    return endSpanWhen(span, p, (tiers) => tierAttributes(keys.length, tiers));
  }

  /**
   * `lookup()`'s answer at once when L1 alone settles it (every key in L1, or no L2 tier), else
   * undefined (call `lookup()`, which asks the L2 tiers). For servers answering from memory.
   */
  lookupNow(keys: readonly ObjectKey[]): Tier[] | undefined {
    this.#check('lookupNow');
    checkKeyList(keys);
    const tiers = lookupTiersInL1(this.#l1, this.#adapters, keys);
    // Its span only when it answered (a sub-microsecond call): otherwise lookup() records the call.
    if (tiers) endSpan(this.#tracing.start('tierkv.storage.lookup', INTERNAL), () => tierAttributes(keys.length, tiers));
    return tiers;
  }

  async #lookup(keys: readonly ObjectKey[]): Promise<Tier[]> {
    checkKeyList(keys);
    return lookupTiers(this.#l1, this.#adapters, (k) => this.#deletes.isTombstoned(k), keys);
  }

  /**
   * Deletes from L1 and every L2 tier; resolves with one outcome per key: `deleted`, `absent`,
   * `locked` (L1 holds it locked: being written or read; it stays) or `failed` (an L2 tier could
   * not delete it: it is not announced deleted, and it is never loaded from that copy again).
   * Waits only for the pending write-throughs of these keys.
   */
  delete(keys: readonly ObjectKey[]): Promise<DeleteOutcome[]> {
    return this.#track('delete', async () => {
      checkKeyList(keys);
      const outcomes = await this.#deletes.delete(keys);
      const gone = keys.filter((_, i) => outcomes[i] === 'deleted');
      if (gone.length > 0) this.#emit((l) => l.onSmKeysDeleted?.(gone));
      return outcomes;
    });
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
      storeQueueKeys: this.#store.pendingKeys,
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
      this.#keyOwner.releaseAll();
    } catch (err) {
      if (log.enabled) log('releasing prefetch locks at close failed: %s', String(err));
    }
    const results = await Promise.allSettled(this.#adapters.map((a) => a.close()));
    this.#metrics.close();
    this.#l1.close();
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason), 'some L2 adapters failed to close');
  }

  // ---------------------------------------------------------------------------------------------

  #startPrefetch(operation: string, keys: readonly ObjectKey[], layout: MemoryLayout, options: { readers?: number }): PrefetchTask {
    this.#check(operation);
    checkKeyList(keys, 'keys', 'an array of ObjectKeys in prefix order');
    if (!(layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance (the layout the chunks were written with)');
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected an object { readers? }');
    const readers = checkReadLocks(options.readers ?? 1, 'readers');
    const span = this.#tracing.start('tierkv.storage.prefetch', INTERNAL);
    if (!span) {
      const task = this.#prefetch.submit(keys, layout, (t) => this.#onSettled(t), readers);
      this.#tasks.set(task.id, task);
      return task;
    }
    // The L2 lookups and loads of the prefetch run in this span's context: they become its children.
    const task = withSpan(span, () => this.#prefetch.submit(keys, layout, (t) => this.#onSettled(t), readers));
    this.#tasks.set(task.id, task);
    const count = keys.length;
    task.whenSettled(() =>
      endSpan(span, () => ({
        [ATTR.KEYS_COUNT]: count,
        [ATTR.PREFIX_HITS]: task.l1Hits + task.l2Hits,
        [ATTR.PREFIX_L1_HITS]: task.l1Hits,
        [ATTR.PREFIX_L2_HITS]: task.l2Hits,
      })),
    );
    return task;
  }

  #onSettled(task: PrefetchTask): void {
    const ring = this.#settled;
    if (ring.length < this.options.prefetchResultsLimit) ring.push(task.id);
    else {
      // Full: the oldest settled result goes.
      this.#tasks.delete(ring[this.#settledNext]!);
      ring[this.#settledNext] = task.id;
      this.#settledNext = (this.#settledNext + 1) % ring.length;
    }
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
