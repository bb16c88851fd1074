import type { KeyScope } from '../hashing/token-hasher.js';
import type { ObjectKey } from '../keys/object-key.js';

/**
 * Which chunks a call is about: their keys, or token ids (hashed into one key per full chunk)
 * with the scope they belong to. Shared by the in-process facade (`TierkvCache`) and the network
 * client (`TierkvClient`), so code moves between the two unchanged.
 */
export type ChunkKeys = readonly ObjectKey[] | { readonly tokens: ArrayLike<number>; readonly scope: KeyScope };

/** What a store (`put`) did. */
export interface StoreResult {
  /** Per key: stored now (false when present already, or no memory was free). */
  readonly stored: boolean[];
  /** How many keys were stored now. */
  readonly storedCount: number;
  /** The keys, hashed from the tokens when tokens were given. */
  readonly keys: readonly ObjectKey[];
}

/** What a retrieve (`get`) found: the longest cached prefix, copied out. */
export interface RetrieveResult {
  /** The bytes of the ready prefix of the keys, in order (fewer than the keys on a partial hit). */
  readonly chunks: Uint8Array[];
  readonly keys: readonly ObjectKey[];
}
