import type { MemoryLayout, ObjectKey, TelemetryOptions } from '@tierkv/core';
import type { L2FailureReasons } from './l2-failure.js';
import type { L2Listener } from './l2-listener.js';

/** One object handed to an L2 store. `data` is only valid until the returned promise settles. */
export interface L2StoreItem {
  readonly key: ObjectKey;
  readonly layout: MemoryLayout;
  readonly data: Uint8Array;
}

export interface L2Usage {
  /** Bytes the tier holds (an adapter may include its own per-object overhead). */
  readonly usedBytes: number;
  /** The adapter's byte budget, or undefined when it has none. */
  readonly capacityBytes: number | undefined;
  readonly objects: number;
}

/**
 * The contract every L2 tier implements: whole objects, batched, asynchronous.
 *
 * - Every call takes a batch and answers one result per key, in order. A single bad key is a
 *   per-key `false`, never a throw; a rejected promise means the whole batch failed (backend down,
 *   closed) and the caller treats every key of it as failed.
 * - An adapter never hands out bytes that fail its own verification: a corrupt, truncated or
 *   wrong-sized object is a miss (`false`), and the adapter drops it.
 * - `lookupAndLock` pins objects: a pinned object is neither evicted by the adapter's budget nor
 *   removed by `delete` (which answers `false` for it) until every pin is released by `unlock`.
 *   Pins are counted: two lookups need two unlocks.
 * - After `close()` every call rejects with `ClosedError`.
 * - Everything is asynchronous and may run remotely: callers make no assumption about files,
 *   processes or timing. Calls may overlap.
 *
 * The StorageManager wraps each adapter to record the standard `tierkv.l2.*` metrics and to emit
 * `L2Listener` events, so an adapter only reports what only it can know (corrupt objects, budget
 * evictions, and optionally why a key failed). Run `registerL2AdapterSuite` from `@tierkv/storage/testing` against any implementation.
 */
export interface L2Adapter {
  /** A short, bounded identifier used as the `tierkv.l2.adapter` metric attribute (`fs`, `redis`). */
  readonly name: string;

  /**
   * Stores each object with its layout; result i is true when item i is durably stored. Existing
   * keys are overwritten. The returned promise must not settle while the adapter may still read
   * `data` (the caller releases that memory as soon as it settles).
   *
   * `reasons`, when given, is an empty array the adapter may fill: `reasons[i]` says why item i
   * failed (see L2FailureReason; `tierkv.l2.failures` carries it). Optional for adapters: a false
   * without a reason counts as `other`.
   */
  store(items: readonly L2StoreItem[], reasons?: L2FailureReasons): Promise<boolean[]>;

  /**
   * For each key, whether it is present; present keys are pinned against eviction and deletion
   * until `unlock`, so a following `load` finds them.
   */
  lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]>;

  /**
   * Copies each object into `targets[i]` (L1 memory the caller reserved, exactly the object's
   * size). Result i is false for a missing, corrupt or wrong-sized object, and, when `layout` is
   * given, for an object stored with another layout (a miss: that object is valid, it stays);
   * `targets[i]` then holds no meaningful data. Never returns true for bytes that fail
   * verification. Objects record the layout they were stored with (`L2StoreItem.layout`).
   * `reasons` as for `store`.
   */
  load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout, reasons?: L2FailureReasons): Promise<boolean[]>;

  /** Releases one pin per key taken by `lookupAndLock`. Unknown or unpinned keys are ignored. */
  unlock(keys: readonly ObjectKey[]): Promise<void>;

  /** Deletes each key; result i is true if it existed and was removed (false for a pinned object). */
  delete(keys: readonly ObjectKey[]): Promise<boolean[]>;

  /** Removes every unpinned object; resolves with how many were removed. Optional. */
  clear?(): Promise<number>;

  usage(): L2Usage;

  /**
   * Optional: report the adapter's own metrics (corrupt, evicted; Redis: `db.client.*`, breaker)
   * and spans through these providers. The StorageManager calls it with its `meterProvider` and
   * `tracerProvider`, so they reach every tier it uses; an adapter given a provider of its own
   * keeps that one.
   */
  bindTelemetry?(telemetry: TelemetryOptions): void;

  /** Adapter-level events. Optional: the StorageManager emits the standard ones for every adapter. */
  addListener?(listener: L2Listener): () => void;

  /** Finishes or fails pending work and releases resources; later calls reject with ClosedError. */
  close(): Promise<void>;
}
