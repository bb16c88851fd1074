/** A snapshot of L1's memory and objects. */
export interface L1Usage {
  readonly usedBytes: number;
  readonly capacityBytes: number;
  readonly objects: number;
  readonly byState: { readonly writeLocked: number; readonly ready: number; readonly readLocked: number };
  /** Bytes held by write-locked objects (reserved, not yet readable); included in usedBytes. */
  readonly writeLockedBytes?: number;
  /** Heap bytes charged for the objects' keys (outside the arena), and their budget `l1.maxKeyBytes`. */
  readonly keyBytes?: number;
  readonly keyBytesLimit?: number;
}

/** What `memcheck()` found; `problems` is empty when `ok`. */
export interface MemcheckReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}
