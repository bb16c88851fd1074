// SKELETON: signatures fixed for parallel work; the storage-manager helper implements the bodies.
import type { MemoryLayout, ObjectKey, TelemetryOptions } from '@tierkv/core';
import type { L1Options, L1Usage, WriteMode } from '../l1/l1-manager.js';
import type { L1Listener } from '../l1/l1-listener.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { L2Adapter, L2Usage } from '../l2/l2-adapter.js';
import type { L2Listener } from '../l2/l2-listener.js';
import type { StorageManagerListener } from './storage-listener.js';

export interface StorageManagerOptions extends TelemetryOptions {
  l1: L1Options;
  /** L2 tiers in lookup order (fastest first). @default [] */
  l2?: readonly L2Adapter[];
  /** `all`: write every object through to every adapter; `skip_l1`: also drop it from L1 once stored. @default 'all' */
  storePolicy?: 'all' | 'skip_l1';
  /** Max queued L2 store batches before finishWrite applies back-pressure (drops + counts). @default 1024 */
  storeQueueLimit?: number;
  /** Max concurrent L2 loads in prefetch. @default 8 */
  maxInFlight?: number;
}

/** An opaque prefetch ticket. */
export interface PrefetchHandle {
  readonly id: number;
}

export interface StorageUsage {
  readonly l1: L1Usage;
  readonly l2: readonly (L2Usage & { readonly adapter: string })[];
  readonly storeQueueDepth: number;
  readonly activePrefetches: number;
}

/** The tier that answers for each key of a lookup, or 'miss'. */
export type Tier = 'l1' | 'l2' | 'miss';

/** L1 plus an ordered list of L2 tiers, with write-through stores and prefix prefetch. */
export class StorageManager {
  constructor(options: StorageManagerOptions) {
    void options;
    throw new Error('not implemented');
  }
  /** Reserves L1 memory for each key; returns one entry per key: the object, or undefined if not reserved. */
  reserveWrite(_keys: readonly ObjectKey[], _layout: MemoryLayout, _mode: WriteMode = 'new'): (MemoryObj | undefined)[] {
    throw new Error('not implemented');
  }
  /** Makes the objects readable and queues their write-through to L2. Returns per-key success. */
  finishWrite(_keys: readonly ObjectKey[]): boolean[] {
    throw new Error('not implemented');
  }
  /** Gives up reservations made by reserveWrite without publishing them. */
  abortWrite(_keys: readonly ObjectKey[]): void {
    throw new Error('not implemented');
  }
  /** Locks L1 hits of the prefix and loads the rest of the contiguous prefix from L2 in the background. */
  submitPrefetch(_keys: readonly ObjectKey[], _layout: MemoryLayout): PrefetchHandle {
    throw new Error('not implemented');
  }
  /** Number of leading keys ready and read-locked, or undefined while loads are pending. */
  queryPrefetchStatus(_handle: PrefetchHandle): number | undefined {
    throw new Error('not implemented');
  }
  /** Resolves when the prefetch settles, with the ready prefix length. */
  waitPrefetch(_handle: PrefetchHandle): Promise<number> {
    throw new Error('not implemented');
  }
  /** The read-locked objects for all keys, or undefined (and no locks kept) if any is missing. */
  readPrefetched(_keys: readonly ObjectKey[]): MemoryObj[] | undefined {
    throw new Error('not implemented');
  }
  /** Releases the read locks a prefetch took. */
  finishReadPrefetched(_keys: readonly ObjectKey[]): void {
    throw new Error('not implemented');
  }
  /** Where each key lives now, without locking or loading. */
  lookup(_keys: readonly ObjectKey[]): Promise<Tier[]> {
    throw new Error('not implemented');
  }
  /** Deletes from L1 and every L2 tier. */
  delete(_keys: readonly ObjectKey[]): Promise<void> {
    throw new Error('not implemented');
  }
  /** Drops every unlocked object from L1 (and, with `{ l2: true }`, clears L2 too). */
  clear(_options: { l2?: boolean } = {}): Promise<void> {
    throw new Error('not implemented');
  }
  usage(): StorageUsage {
    throw new Error('not implemented');
  }
  addListener(_listener: StorageManagerListener & L1Listener & L2Listener): () => void {
    throw new Error('not implemented');
  }
  /** Waits for pending L2 stores and prefetches, closes adapters; later calls throw ClosedError. */
  close(): Promise<void> {
    throw new Error('not implemented');
  }
}
