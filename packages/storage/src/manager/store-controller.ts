import { debugLogger, encodeKey, type EncodedKey, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { L2StoreItem } from '../l2/l2-adapter.js';
import type { DurableOutcome } from './durable-commit.js';
import { holdingsOf, releaseHoldings, type ReadHolding } from './read-holding.js';
import type { ResolvedStorageManagerOptions, WriteRejectReason } from './storage-options.js';
import type { StorageMetrics } from './storage-metrics.js';

const log = debugLogger('tierkv:storage');

/**
 * Write-through from L1 to every L2 adapter, in the background after finishWrite. Each queued
 * object is read-locked in L1 so it cannot be evicted or rewritten while it is being copied; the
 * lock is released once every adapter answered. The backlog is bounded in batches
 * (`storeQueueLimit`) and in bytes held locked (`storeQueueLimitBytes`), so a slow L2 can neither
 * grow memory without bound nor pin so much of L1 that new writes run out of memory. Past either
 * bound, with `storeBacklogPolicy: 'reject_writes'` the StorageManager refuses new reservations
 * (see `overBound`) and every finished write is still queued here; with `skip_l2` a new
 * write-through is dropped instead (its objects stay in L1, unlocked) and counted.
 */
export class StoreController {
  readonly #l1: L1Manager;
  readonly #adapters: readonly InstrumentedL2Adapter[];
  readonly #options: ResolvedStorageManagerOptions;
  readonly #metrics: StorageMetrics;
  readonly #queue: ReadHolding[][] = [];
  readonly #pending = new Map<EncodedKey, number>();
  // Callers of waitFor(), by key: woken when the key's last pending write-through lands.
  readonly #waiters = new Map<EncodedKey, (() => void)[]>();
  // Durable commits waiting on one queued write-through each, by its holding (its own copy).
  readonly #settlers = new Map<ReadHolding, (outcome: DurableOutcome) => void>();
  #inflight = 0;
  // Bytes of the objects read-locked for queued or running write-throughs.
  #lockedBytes = 0;
  #idle: (() => void)[] = [];

  constructor(l1: L1Manager, adapters: readonly InstrumentedL2Adapter[], options: ResolvedStorageManagerOptions, metrics: StorageMetrics) {
    this.#l1 = l1;
    this.#adapters = adapters;
    this.#options = options;
    this.#metrics = metrics;
  }

  /** Batches queued or being stored. */
  get depth(): number {
    return this.#queue.length + this.#inflight;
  }

  /** Bytes of L1 objects read-locked by queued or running write-throughs. */
  get lockedBytes(): number {
    return this.#lockedBytes;
  }

  /**
   * Which bound the backlog is over, or undefined while it is under both. The byte bound is
   * checked per batch (a batch is admitted whole while less than the bound is held), so at most the
   * bound plus what was admitted under it stays pinned, and a batch larger than the bound still
   * goes through when nothing else is held.
   */
  overBound(): WriteRejectReason | undefined {
    if (this.#adapters.length === 0) return undefined;
    if (this.#queue.length >= this.#options.storeQueueLimit) return 'queue_full';
    if (this.#lockedBytes >= this.#options.storeQueueLimitBytes) return 'queue_bytes';
    return undefined;
  }

  /** Whether a write-through of `key` is queued or running. */
  isPending(key: ObjectKey): boolean {
    return this.#pending.has(encodeKey(key));
  }

  /** Resolves when no write-through of any of `keys` is queued or running (others may still be). */
  waitFor(keys: readonly ObjectKey[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const k = encodeKey(key);
      if (!this.#pending.has(k)) continue;
      waits.push(
        new Promise<void>((resolve) => {
          let list = this.#waiters.get(k);
          if (!list) this.#waiters.set(k, (list = []));
          list.push(resolve);
        }),
      );
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  }

  /** Keys with a write-through queued or running (acknowledged stores not yet on L2). */
  get pendingKeys(): number {
    return this.#pending.size;
  }

  /**
   * Queues the write-through of objects that just became ready. Never throws, never blocks. With
   * `track`, returns per key a promise of how its write-through ended (never rejects).
   */
  enqueue(keys: readonly ObjectKey[], track: true): Promise<DurableOutcome>[];
  enqueue(keys: readonly ObjectKey[], track?: boolean): Promise<DurableOutcome>[] | undefined;
  enqueue(keys: readonly ObjectKey[], track = false): Promise<DurableOutcome>[] | undefined {
    const outcomes: Promise<DurableOutcome>[] | undefined = track ? keys.map(() => Promise.resolve('l2_skipped')) : undefined;
    if (this.#adapters.length === 0 || keys.length === 0) return outcomes;
    // With reject_writes the StorageManager stopped reserving at the bound, so what was reserved
    // before is queued whatever the backlog: a finished write is never kept from L2.
    const over = this.#options.storeBacklogPolicy === 'skip_l2' ? this.overBound() : undefined;
    if (over === 'queue_full') {
      this.#metrics.storeDroppedQueueFull += keys.length;
      if (log.enabled) log('store queue full (%d batches): dropped the write-through of %d objects', this.#queue.length, keys.length);
      return outcomes;
    }
    if (over === 'queue_bytes') {
      this.#metrics.storeDroppedQueueBytes += keys.length;
      if (log.enabled) log('write-throughs hold %d bytes of L1 (limit %d): dropped the write-through of %d objects', this.#lockedBytes, this.#options.storeQueueLimitBytes, keys.length);
      return outcomes;
    }
    const results = this.#l1.reserveRead(keys);
    const objs: MemoryObj[] = [];
    const index: number[] = [];
    results.forEach((r, i) => {
      // A key L1 would not lock (deleted or evicted since finishWrite) has nothing left to copy.
      if (r.code === 'SUCCESS' && r.obj) {
        objs.push(r.obj);
        index.push(i);
        this.#lockedBytes += r.obj.data.byteLength;
      } else {
        this.#metrics.storeDroppedNotInL1++;
        if (outcomes) outcomes[i] = Promise.resolve('l2_failed');
      }
    });
    if (objs.length === 0) return outcomes;
    // The locks' generations: released as ours only, and an expired one is detected (below).
    const holdings = holdingsOf(this.#l1, objs, 1);
    if (outcomes) holdings.forEach((h, j) => (outcomes[index[j]!] = new Promise((resolve) => this.#settlers.set(h, resolve))));
    for (const o of objs) {
      const k = encodeKey(o.key);
      this.#pending.set(k, (this.#pending.get(k) ?? 0) + 1);
    }
    this.#queue.push(holdings);
    this.#pump();
    return outcomes;
  }

  /** Resolves when nothing is queued or being stored. */
  flush(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inflight < this.#options.storeConcurrency && this.#queue.length > 0) {
      // Merge queued batches up to storeBatchSize keys: fewer, larger L2 calls.
      const batch = this.#queue.shift()!;
      while (this.#queue.length > 0 && batch.length + this.#queue[0]!.length <= this.#options.storeBatchSize) batch.push(...this.#queue.shift()!);
      this.#inflight++;
      void this.#store(batch).finally(() => {
        this.#inflight--;
        this.#pump();
        if (this.depth === 0) {
          const waiters = this.#idle;
          this.#idle = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  async #store(holdings: ReadHolding[]): Promise<void> {
    const keys = holdings.map((h) => h.key);
    let unlocked = 0; // holdings[0..unlocked) are released and no longer counted in #lockedBytes
    try {
      for (let start = 0; start < holdings.length; start += this.#options.storeBatchSize) {
        const held = holdings.slice(start, start + this.#options.storeBatchSize);
        const slice = held.map((h) => h.obj);
        const items: L2StoreItem[] = slice.map((o) => ({ key: o.key, layout: o.layout, data: o.data }));
        const answers = await Promise.all(
          this.#adapters.map((a) =>
            a.store(items).catch((err: unknown) => {
              if (log.enabled) log('store to %s failed: %s', a.name, String(err));
              return items.map(() => false);
            }),
          ),
        );
        const sliceKeys = slice.map((o) => o.key);
        const { stale } = this.#release(held);
        if (stale.length > 0) await this.#dropTorn(stale);
        for (const o of slice) this.#lockedBytes -= o.data.byteLength;
        unlocked += slice.length;
        this.#dropPending(sliceKeys);
        // Durable only when every tier stored this copy, and it was not torn (deleted above).
        held.forEach((h, j) => this.#settle(h, !stale.includes(h) && answers.every((a) => a[j] === true) ? 'durable' : 'l2_failed'));
        if (this.#options.storePolicy === 'skip_l1') {
          const everywhere = sliceKeys.filter((_, i) => answers.every((a) => a[i] === true));
          if (everywhere.length > 0) this.#safe(() => this.#l1.delete(everywhere));
        }
      }
    } catch (err) {
      // Only an L1 that closed under us lands here; its memory is gone anyway.
      if (log.enabled) log('write-through of %d objects aborted: %s', keys.length, String(err));
      this.#dropPending(keys.filter((k) => this.#pending.has(encodeKey(k))));
      for (const h of holdings.slice(unlocked)) this.#lockedBytes -= h.obj.data.byteLength;
      for (const h of holdings) this.#settle(h, 'l2_failed');
    }
  }

  #settle(h: ReadHolding, outcome: DurableOutcome): void {
    const settle = this.#settlers.get(h);
    if (!settle) return;
    this.#settlers.delete(h);
    settle(outcome);
  }

  #release(holdings: ReadHolding[]): { stale: ReadHolding[] } {
    try {
      return releaseHoldings(this.#l1, holdings);
    } catch (err) {
      if (log.enabled) log('L1 call after write-through failed: %s', String(err));
      return { stale: [] };
    }
  }

  /**
   * A write-through whose L1 read lock expired while L2 copied it may have copied memory that was
   * freed and reused by another key meanwhile: its L2 copies are deleted, never trusted.
   */
  async #dropTorn(stale: readonly ReadHolding[]): Promise<void> {
    const keys = stale.map((h) => h.key);
    this.#metrics.storeDroppedNotInL1 += keys.length;
    if (log.enabled) log('read lock of %d write-throughs expired during the L2 copy: their L2 copies are deleted', keys.length);
    await Promise.all(this.#adapters.map((a) => a.delete(keys).catch(() => undefined)));
  }

  #dropPending(keys: ObjectKey[]): void {
    for (const key of keys) {
      const k = encodeKey(key);
      const n = (this.#pending.get(k) ?? 1) - 1;
      if (n > 0) {
        this.#pending.set(k, n);
        continue;
      }
      this.#pending.delete(k);
      const waiters = this.#waiters.get(k);
      if (waiters) {
        this.#waiters.delete(k);
        for (const w of waiters) w();
      }
    }
  }

  #safe(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      if (log.enabled) log('L1 call after write-through failed: %s', String(err));
    }
  }
}
