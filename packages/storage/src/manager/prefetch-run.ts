import { debugLogger, encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { Semaphore } from '../l2/semaphore.js';
import type { PrefetchTask } from './prefetch-handle.js';
import { holdingsOf, releaseHoldings, type ReadHolding } from './read-holding.js';
import type { ResolvedStorageManagerOptions } from './storage-options.js';

const log = debugLogger('tierkv:storage');

// tierOf values besides an L2 tier index.
const MISSING = -1;
const IN_L1 = -2;
// A key L1 held when the prefetch looked but evicted before it could lock it is looked up in L2
// again, at most this many rounds (each round awaits L2, during which L1 may evict again).
const RELOOKUP_ROUNDS = 3;

/** What every run shares: the tiers, the load limit, and which keys some run is loading now. */
export interface PrefetchContext {
  readonly l1: L1Manager;
  readonly adapters: readonly InstrumentedL2Adapter[];
  readonly options: ResolvedStorageManagerOptions;
  readonly loads: Semaphore;
  /** Keys some run is loading into L1 right now: another run of the same key waits for it. */
  readonly loading: Map<EncodedKey, Promise<void>>;
  /** Keys whose L2 copies a failed delete left behind: never loaded from L2. */
  readonly isTombstoned: (key: ObjectKey) => boolean;
}

/**
 * The L2 part of one prefetch, as one object: after the L1 hits, find the rest of the contiguous
 * prefix in the L2 tiers (pinning it there), reserve L1 memory for it (reservations owned by this
 * run: their generations are kept, so nobody else can finish or abort them), load it with at most
 * `maxInFlight` keys in flight across the manager, and read-lock what became ready. A gap, a failed
 * reservation or a failed (or corrupt, or other-layout) load ends the prefix there; everything
 * beyond is released: reservations aborted, pins dropped, loaded objects left in L1 unlocked.
 */
export class PrefetchRun {
  readonly #c: PrefetchContext;
  readonly #task: PrefetchTask;
  readonly #rest: ObjectKey[];
  readonly #layout: MemoryLayout;
  /** Per key: IN_L1, MISSING, or the index of the L2 tier that pinned it. */
  #tierOf: number[] = [];
  /** Per key: the read locks taken for it (L1 hit, or loaded here, or loaded by another run). */
  readonly #ready: (ReadHolding | undefined)[] = [];
  /** Per key: the L1 reservation this run loads into, and its generation. */
  readonly #reserved: (MemoryObj | undefined)[] = [];
  readonly #reservedGen: number[] = [];
  readonly #readIdx: number[] = [];
  readonly #writeIdx: number[] = [];
  readonly #waitFor = new Map<number, Promise<void>>();
  /** Our loads other runs may wait for, by key index. */
  readonly #mine = new Map<number, () => void>();
  /** End of the prefix that located (every key found somewhere). */
  #q = 0;
  /** End of the prefix claimed in L1 (locked, reserved, or being loaded by another run). */
  #r = 0;
  /** First index that is not ready (only decreases while loading). */
  #end = 0;

  constructor(context: PrefetchContext, task: PrefetchTask, rest: ObjectKey[], layout: MemoryLayout) {
    this.#c = context;
    this.#task = task;
    this.#rest = rest;
    this.#layout = layout;
  }

  async run(): Promise<void> {
    try {
      await this.#locate();
      if (this.#q === 0) return;
      this.#claim();
      await this.#trim();
      if (this.#r === 0) return;
      await this.#load();
      this.#keepPrefix();
    } finally {
      for (const i of [...this.#mine.keys()]) this.#settle(i);
    }
  }

  /** 1. Where each key is: L1, else the first L2 tier that holds it (pinned there). */
  async #locate(): Promise<void> {
    const { l1, adapters } = this.#c;
    const rest = this.#rest;
    this.#tierOf = l1.contains(rest).map((c) => (c ? IN_L1 : MISSING));
    await this.#lookupInL2((i) => this.#tierOf[i] === MISSING);
    // An L1 key evicted meanwhile is still worth finding in L2: otherwise it cuts the prefix.
    for (let round = 0; round < RELOOKUP_ROUNDS && adapters.length > 0; round++) {
      const inL1 = l1.contains(rest);
      const lost = (i: number) => this.#tierOf[i] === IN_L1 && !inL1[i];
      if (!rest.some((_, i) => lost(i))) break;
      await this.#lookupInL2(lost);
    }
    let q = 0;
    while (q < rest.length && this.#tierOf[q] !== MISSING) q++;
    this.#q = q;
    await this.#unpinWhere((i) => i >= q);
  }

  async #lookupInL2(pick: (i: number) => boolean): Promise<void> {
    const rest = this.#rest;
    const candidates: number[] = [];
    for (let i = 0; i < rest.length; i++) if (pick(i) && !this.#c.isTombstoned(rest[i]!)) candidates.push(i);
    for (const i of candidates) this.#tierOf[i] = MISSING;
    for (let t = 0; t < this.#c.adapters.length; t++) {
      const idx = candidates.filter((i) => this.#tierOf[i] === MISSING);
      if (idx.length === 0) break;
      const found = await this.#c.adapters[t]!.lookupAndLock(idx.map((i) => rest[i]!)).catch(() => idx.map(() => false));
      idx.forEach((i, j) => {
        if (found[j]) this.#tierOf[i] = t;
      });
    }
  }

  /** 2. Synchronously (L1 may have changed while we awaited): lock what L1 holds, reserve the rest. */
  #claim(): void {
    const { l1, loading } = this.#c;
    const rest = this.#rest;
    const q = this.#q;
    const now = l1.contains(rest.slice(0, q));
    for (let i = 0; i < q; i++) {
      const other = now[i] ? undefined : loading.get(encodeKey(rest[i]!));
      if (now[i]) this.#readIdx.push(i);
      else if (other) this.#waitFor.set(i, other);
      else if (this.#tierOf[i]! >= 0) this.#writeIdx.push(i);
    }
    const readers = this.#task.readers;
    if (this.#readIdx.length > 0) {
      const res = l1.reserveRead(this.#readIdx.map((i) => rest[i]!), readers);
      const lockedJ = this.#readIdx.map((_, j) => j).filter((j) => res[j]!.code === 'SUCCESS');
      const lockedIdx = lockedJ.map((j) => this.#readIdx[j]!);
      const holdings = holdingsOf(l1, lockedJ.map((j) => res[j]!.obj!), readers);
      const mismatched: ReadHolding[] = [];
      lockedIdx.forEach((i, j) => {
        if (holdings[j]!.obj.layout.equals(this.#layout)) this.#ready[i] = holdings[j];
        else mismatched.push(holdings[j]!); // another layout: the prefix ends here
      });
      releaseHoldings(l1, mismatched);
    }
    if (this.#writeIdx.length > 0) {
      const writeKeys = this.#writeIdx.map((i) => rest[i]!);
      const res = l1.reserveWrite(writeKeys, this.#layout, 'new', { partial: true });
      const gens = l1.generations(writeKeys);
      this.#writeIdx.forEach((i, j) => {
        if (res[j]!.code !== 'SUCCESS') return;
        this.#reserved[i] = res[j]!.obj;
        this.#reservedGen[i] = gens[j]!;
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        const k = encodeKey(rest[i]!);
        loading.set(k, promise);
        this.#mine.set(i, () => {
          if (loading.get(k) === promise) loading.delete(k);
          resolve();
        });
      });
    }
    let r = 0;
    while (r < q && (this.#ready[r] || this.#reserved[r] || this.#waitFor.has(r))) r++;
    this.#r = r;
    this.#end = r;
  }

  /** Releases what lies past the claimed prefix, and the pins no load needs. */
  async #trim(): Promise<void> {
    const { l1 } = this.#c;
    const r = this.#r;
    const dropRead = this.#readIdx.filter((i) => i >= r && this.#ready[i]).map((i) => this.#ready[i]!);
    const dropWrite = this.#writeIdx.filter((i) => i >= r && this.#reserved[i]);
    releaseHoldings(l1, dropRead);
    for (const i of this.#readIdx) if (i >= r) this.#ready[i] = undefined;
    this.#abort(dropWrite);
    await this.#unpinWhere((i) => i >= r && i < this.#q);
    await this.#unpinWhere((i) => i < r && (this.#ready[i] !== undefined || this.#waitFor.has(i)));
  }

  /** 3. Loads in runs of one tier (at most loadBatchSize keys per call), and waits for other runs' loads. */
  async #load(): Promise<void> {
    const r = this.#r;
    const batches: { tier: number; indices: number[] }[] = [];
    let cur: { tier: number; indices: number[] } | undefined;
    for (const i of this.#writeIdx) {
      if (i >= r || !this.#reserved[i]) continue;
      const tier = this.#tierOf[i]!;
      if (!cur || cur.tier !== tier || cur.indices.length >= this.#c.options.loadBatchSize) {
        cur = { tier, indices: [] };
        batches.push(cur);
      }
      cur.indices.push(i);
    }
    await Promise.all([
      ...batches.map((b) => this.#c.loads.run(() => this.#loadBatch(b.tier, b.indices), b.indices.length)),
      ...[...this.#waitFor.keys()].filter((i) => i < r).map((i) => this.#waitForOther(i)),
    ]);
  }

  async #loadBatch(tier: number, indices: number[]): Promise<void> {
    const { l1 } = this.#c;
    const adapter = this.#c.adapters[tier]!;
    const rest = this.#rest;
    const bKeys = indices.map((i) => rest[i]!);
    if (indices[0]! >= this.#end) {
      // The prefix already ended before this run of keys: do not load it at all.
      this.#abort(indices);
      await adapter.unlock(bKeys).catch(() => undefined);
      return;
    }
    const ok = await adapter.load(bKeys, indices.map((i) => this.#reserved[i]!.data), this.#layout).catch(() => bKeys.map(() => false));
    await adapter.unlock(bKeys).catch(() => undefined);
    const good = indices.filter((_, j) => ok[j]);
    const bad = indices.filter((_, j) => !ok[j]);
    if (bad.length > 0) {
      this.#abort(bad);
      this.#end = Math.min(this.#end, bad[0]!);
    }
    if (good.length > 0) {
      const goodKeys = good.map((i) => rest[i]!);
      const res = l1.finishWriteAndReserveRead(goodKeys, this.#task.readers, good.map((i) => this.#reservedGen[i]!));
      const lockedJ = good.map((_, j) => j).filter((j) => res[j]!.code === 'SUCCESS' && res[j]!.obj);
      const lockedIdx = lockedJ.map((j) => good[j]!);
      const holdings = holdingsOf(l1, lockedJ.map((j) => res[j]!.obj!), this.#task.readers);
      lockedIdx.forEach((i, j) => (this.#ready[i] = holdings[j]));
      good.forEach((i, j) => {
        // Our reservation expired (LOCK_NOT_HELD) or was lost: the key is not ready.
        if (res[j]!.code !== 'SUCCESS') this.#end = Math.min(this.#end, i);
      });
    }
    for (const i of indices) this.#settle(i);
  }

  async #waitForOther(i: number): Promise<void> {
    await this.#waitFor.get(i);
    if (i >= this.#end) return;
    const { l1 } = this.#c;
    const res = l1.reserveReadOne(this.#rest[i]!, this.#task.readers);
    if (res.code === 'SUCCESS' && res.obj) {
      const [h] = holdingsOf(l1, [res.obj], this.#task.readers);
      // The other run loaded it with another layout: not ours to hand out.
      if (h!.obj.layout.equals(this.#layout)) {
        this.#ready[i] = h;
        return;
      }
      releaseHoldings(l1, [h!]);
    }
    this.#end = Math.min(this.#end, i);
  }

  /** 4. Keeps the locks of the prefix (handed to the task); releases objects past its end (they stay cached). */
  #keepPrefix(): void {
    const beyond: ReadHolding[] = [];
    let fromL1 = 0;
    for (let i = 0; i < this.#r; i++) {
      const h = this.#ready[i];
      if (!h) continue;
      if (i < this.#end) {
        this.#task.holdings.push(h);
        if (this.#tierOf[i] === IN_L1 || this.#readIdx.includes(i)) fromL1++;
      } else beyond.push(h);
    }
    releaseHoldings(this.#c.l1, beyond);
    this.#task.l1Hits += fromL1;
    this.#task.l2Hits = this.#end - fromL1;
    if (log.enabled && this.#end < this.#rest.length) log('prefetch %d: prefix ends at %d of the L2 phase', this.#task.id, this.#end);
  }

  #abort(indices: readonly number[]): void {
    const own = indices.filter((i) => this.#reserved[i]);
    if (own.length > 0) {
      this.#c.l1.abortWrite(
        own.map((i) => this.#rest[i]!),
        own.map((i) => this.#reservedGen[i]!),
      );
    }
    for (const i of indices) {
      this.#reserved[i] = undefined;
      this.#settle(i);
    }
  }

  /** Our load of key i is over (ready, failed or given up): wake the runs waiting for it. */
  #settle(i: number): void {
    const wake = this.#mine.get(i);
    if (!wake) return;
    this.#mine.delete(i);
    wake();
  }

  async #unpinWhere(pick: (i: number) => boolean): Promise<void> {
    const byTier = new Map<number, ObjectKey[]>();
    for (let i = 0; i < this.#rest.length; i++) {
      const t = this.#tierOf[i]!;
      if (t < 0 || !pick(i)) continue;
      let list = byTier.get(t);
      if (!list) byTier.set(t, (list = []));
      list.push(this.#rest[i]!);
    }
    await Promise.all([...byTier].map(([t, keys]) => this.#c.adapters[t]!.unlock(keys).catch(() => undefined)));
  }
}
