import type { L1Usage, WriteMode } from '../l1/l1-manager.js';
import type { L2Usage } from '../l2/l2-adapter.js';

export interface StorageUsage {
  readonly l1: L1Usage;
  readonly l2: readonly (L2Usage & { readonly adapter: string })[];
  readonly storeQueueDepth: number;
  /** Bytes of L1 objects read-locked by queued or running write-throughs (bounded by storeQueueLimitBytes). */
  readonly storeQueueBytes?: number; // optional only so hand-made StorageUsage values (fakes, fallbacks) stay valid
  /** Keys whose write-through to L2 is queued or running: acknowledged stores that a kill would lose. */
  readonly storeQueueKeys?: number; // optional for the same reason
  readonly activePrefetches: number;
}

/** The tier that answers for each key of a lookup, or 'miss'. */
export type Tier = 'l1' | 'l2' | 'miss';

/** Options of one reservation. */
export interface ReserveOptions {
  /** `new` (default): only absent keys; `update`: only present, ready, unlocked keys; `all`: both. */
  mode?: WriteMode;
  /** A temporary object is freed after its last read and never written through to L2. */
  temporary?: boolean;
}
