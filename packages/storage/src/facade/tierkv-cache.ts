import { InvalidArgumentError, MemoryLayout, TokenHasher, type ChunkKeys, type KeyScope, type ObjectKey, type RetrieveResult, type StoreResult } from '@tierkv/core';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { StorageManager } from '../manager/storage-manager.js';

export interface TierkvCacheOptions {
  readonly storage: StorageManager;
  /** The layout of every chunk (its byte size is what `put` expects per chunk). */
  readonly layout: MemoryLayout;
  /** The scope token ids are hashed under (model, KV rank, salt). */
  readonly scope: KeyScope;
  /** Tokens per chunk. @default the storage's chunkTokens */
  readonly chunkTokens?: number;
}

/** Chunks read in place: valid until `release()`, which gives their read locks back. */
export interface ChunkLease {
  readonly keys: readonly ObjectKey[];
  /** Views of L1 memory for the cached prefix (zero copy). Do not use them after release(). */
  readonly chunks: readonly Uint8Array[];
  release(): void;
}

/**
 * The front door for the common case, over a StorageManager: `put(tokens, chunks)` stores what
 * fits, `get(tokens)` copies out the longest cached prefix, `getLease(tokens)` lends it in place.
 * Same argument and result shapes as `TierkvClient`'s store/retrieve, so code moves between an
 * embedded cache and the storage server unchanged.
 */
export class TierkvCache {
  readonly storage: StorageManager;
  readonly layout: MemoryLayout;
  readonly scope: KeyScope;
  readonly #hasher: TokenHasher;

  constructor(options: TierkvCacheOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected { storage, layout, scope }');
    const known = new Set(['storage', 'layout', 'scope', 'chunkTokens']);
    for (const k of Object.keys(options)) if (!known.has(k)) throw new InvalidArgumentError(k, `unknown option; known: ${[...known].join(', ')}`);
    if (!(options.layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance');
    if (options.scope === null || typeof options.scope !== 'object' || typeof options.scope.modelName !== 'string' || options.scope.modelName === '') {
      throw new InvalidArgumentError('scope', 'expected { modelName, kvRank?, cacheSalt? } with a non-empty modelName');
    }
    this.storage = options.storage;
    this.layout = options.layout;
    this.scope = options.scope;
    this.#hasher = new TokenHasher({ chunkSize: options.chunkTokens ?? options.storage.options.chunkTokens });
  }

  /** The keys of the full chunks of `tokens` (or the keys given). */
  keysOf(chunks: ChunkKeys | ArrayLike<number>): ObjectKey[] {
    if (isKeyList(chunks)) return [...chunks];
    if (isTokenScope(chunks)) return this.#hasher.keysFor(chunks.tokens, chunks.scope);
    if (chunks === null || typeof chunks !== 'object' || typeof (chunks as ArrayLike<number>).length !== 'number') {
      throw new InvalidArgumentError('tokens', 'expected token ids (an array or Uint32Array), an array of ObjectKeys, or { tokens, scope }');
    }
    return this.#hasher.keysFor(chunks as ArrayLike<number>, this.scope);
  }

  /**
   * Stores one chunk per full chunk of `tokens` (`chunks[i]` is chunk i's bytes, the layout's
   * size): what fits in L1, in order, is copied in and published, then written through to L2 in
   * the background. Chunks already cached are left as they are (stored false).
   */
  put(tokens: ChunkKeys | ArrayLike<number>, chunks: readonly Uint8Array[]): StoreResult {
    const keys = this.keysOf(tokens);
    if (!Array.isArray(chunks)) throw new InvalidArgumentError('chunks', 'expected an array of Uint8Array, one per full chunk');
    if (chunks.length !== keys.length) {
      throw new InvalidArgumentError('chunks', `got ${chunks.length} chunks for ${keys.length} full chunks of tokens (${this.#hasher.chunkSize} tokens each); pass one per full chunk`);
    }
    const size = this.layout.byteSize;
    chunks.forEach((c, i) => {
      if (!(c instanceof Uint8Array) || c.byteLength !== size) {
        throw new InvalidArgumentError(`chunks[${i}]`, `expected a Uint8Array of ${size} bytes (the layout's size), got ${c instanceof Uint8Array ? `${c.byteLength} bytes` : typeof c}`);
      }
    });
    const reservation = this.storage.reserve(keys, this.layout);
    reservation.objects.forEach((o, i) => o?.data.set(chunks[i]!));
    const stored = reservation.commit();
    return { keys, stored, storedCount: stored.filter(Boolean).length };
  }

  /** The longest cached prefix of `tokens`, copied out (L2 hits are loaded into L1 first). */
  async get(tokens: ChunkKeys | ArrayLike<number>): Promise<RetrieveResult> {
    const lease = await this.getLease(tokens);
    try {
      return { keys: lease.keys, chunks: lease.chunks.map((c) => Uint8Array.from(c)) };
    } finally {
      lease.release();
    }
  }

  /** The longest cached prefix of `tokens`, in place: read `chunks`, then `release()`. */
  async getLease(tokens: ChunkKeys | ArrayLike<number>): Promise<ChunkLease> {
    const keys = this.keysOf(tokens);
    const lease = this.storage.prefetch(keys, this.layout);
    await lease.ready;
    const objs: MemoryObj[] = lease.objects();
    return { keys, chunks: objs.map((o) => o.data), release: () => void lease.release() };
  }
}

function isKeyList(v: unknown): v is readonly ObjectKey[] {
  return Array.isArray(v) && v.length > 0 && v[0] !== null && typeof v[0] === 'object';
}

function isTokenScope(v: unknown): v is { readonly tokens: ArrayLike<number>; readonly scope: KeyScope } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'tokens' in v && 'scope' in v;
}
