import type { MemoryLayout, ObjectKey, StoreResult } from '@tierkv/core';
import type { Durability, WireStoreOutcome, WireTier } from '../protocol/messages.js';

// The options and results of TierkvClient's calls.

export interface CallOptions {
  /** Deadline of this call in ms. @default the client's timeoutMs */
  timeoutMs?: number;
}

export interface LayoutCallOptions extends CallOptions {
  /** @default the client's layout */
  layout?: MemoryLayout;
}

export interface StoreOptions extends LayoutCallOptions {
  /** `new`: skip keys already stored; `update`: only stored keys; `all`: both. @default 'new' */
  mode?: 'new' | 'update' | 'all';
  /** What the acknowledgement waits for: `memory` or `l2` (every L2 tier stored the chunks). @default the client's `durability`, else the server's */
  durability?: Durability;
}

/** A store's result from a server: `stored[i]` means stored with the acknowledged `durability`. */
export interface ServerStoreResult extends StoreResult {
  /** What the acknowledgement means (`memory` from servers older than the field). */
  readonly durability: Durability;
  /** With durability `l2`: per key, `durable` or why not (`l2_failed`, `l2_skipped`, `not_stored`). */
  readonly outcomes: readonly WireStoreOutcome[] | undefined;
}

export interface RetrieveOptions extends LayoutCallOptions {
  /** A prefetch (from `lookup`) whose locks this retrieve uses and releases. */
  prefetchId?: number;
  /**
   * Buffers to read the chunks into, one per key (for tokens: per full chunk), each exactly the
   * layout's byte size; the result's `chunks` are then the first of these. Over `tierkv+tcp://` the
   * kernel writes each chunk straight into them: no allocation, no copy. If the call fails, their
   * content is unspecified, but nothing is written into them after it settled.
   */
  into?: readonly Uint8Array[];
}

export interface LookupOptions extends LayoutCallOptions {
  /** Start a prefetch that locks the found prefix (and loads L2 hits into L1). @default true */
  prefetch?: boolean;
  /** Wait for the prefetch to settle and report `ready`. @default false */
  wait?: boolean;
}

export type Tier = WireTier;

export interface LookupResult {
  /** Where each key lives. */
  readonly tiers: Tier[];
  /** Leading keys found in some tier. */
  readonly prefixLength: number;
  /** Set when a prefetch was started: retrieve with it, or release it. */
  readonly prefetchId: number | undefined;
  /** Leading keys ready and locked in L1, when known. */
  readonly ready: number | undefined;
  readonly keys: readonly ObjectKey[];
}

export interface PingResult {
  readonly version: string;
  readonly uptimeMs: number;
  /** Round trip as measured by the client. */
  readonly rttMs: number;
}
