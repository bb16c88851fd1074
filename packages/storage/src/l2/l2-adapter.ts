import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { L2Listener } from './l2-listener.js';

/** One object handed to an L2 store. `data` is only valid until the returned promise settles. */
export interface L2StoreItem {
  readonly key: ObjectKey;
  readonly layout: MemoryLayout;
  readonly data: Uint8Array;
}

export interface L2Usage {
  readonly usedBytes: number;
  /** The adapter's byte budget, or undefined when it has none. */
  readonly capacityBytes: number | undefined;
  readonly objects: number;
}

/**
 * The contract every L2 tier implements: whole objects, batched, asynchronous. Failures are
 * per-key results (false), never thrown for a single bad key; a rejected promise means the whole
 * batch failed (backend down) and the caller treats every key as failed.
 *
 * Run `registerL2AdapterSuite` from `@tierkv/storage/testing` against any implementation.
 */
export interface L2Adapter {
  /** A short, bounded identifier used as the `tierkv.l2.adapter` metric attribute (`fs`, `redis`). */
  readonly name: string;

  /** Stores each object; result i is true when item i is durably stored. Existing keys are overwritten. */
  store(items: readonly L2StoreItem[]): Promise<boolean[]>;

  /**
   * For each key, whether it is present; present keys are locked against eviction and deletion
   * until `unlock`, so a following `load` finds them.
   */
  lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]>;

  /**
   * Copies each object into `targets[i]` (L1 memory the caller reserved, exactly the object's
   * size). Result i is false for a missing, corrupt or wrong-sized object; `targets[i]` then holds
   * no meaningful data. Never returns true for bytes that fail verification.
   */
  load(keys: readonly ObjectKey[], targets: readonly Uint8Array[]): Promise<boolean[]>;

  /** Releases the locks `lookupAndLock` took. Unknown or unlocked keys are ignored. */
  unlock(keys: readonly ObjectKey[]): Promise<void>;

  /** Deletes each key; result i is true if it existed. */
  delete(keys: readonly ObjectKey[]): Promise<boolean[]>;

  usage(): L2Usage;

  addListener?(listener: L2Listener): () => void;

  /** Finishes or fails pending work and releases resources; later calls reject with ClosedError. */
  close(): Promise<void>;
}
