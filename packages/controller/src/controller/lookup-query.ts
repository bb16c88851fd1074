import { SpanKind } from '@opentelemetry/api';
import { ATTR, endSpan, TokenHasher, type TracerBinding } from '@tierkv/core';
import { hashBytes, type ChunkHashes } from '../pool/chunk-hash.js';
import { hashRunFromBytes, hashRunFromHex, type HashRun } from '../pool/hash-run.js';
import type { KvPool } from '../pool/kv-pool.js';
import { prefixLookup } from '../pool/prefix-lookup.js';
import type { LookupHolder, WireScope } from '../protocol/messages.js';

/** What a prefix lookup asks about: chunk hashes in any accepted form, or the tokens themselves. */
export type LookupInput = { readonly hashes: ChunkHashes; readonly tokens?: undefined } | { readonly tokens: readonly number[]; readonly hashes?: undefined };

export interface LookupQueryOptions {
  readonly chunkSize: number;
  readonly hashSeed: string;
  /** Called after each lookup with its duration in seconds. */
  readonly onLookup?: (seconds: number) => void;
  /** Spans for lookups (`tierkv.controller lookup`); none when absent. */
  readonly tracing?: TracerBinding;
}

/** Prefix lookups against the KV pool, timed and traced, from any of the request's hash forms. */
export class LookupQuery {
  readonly #pool: KvPool;
  readonly #o: LookupQueryOptions;
  readonly #hasher: TokenHasher;

  constructor(pool: KvPool, options: LookupQueryOptions) {
    this.#pool = pool;
    this.#o = options;
    this.#hasher = new TokenHasher({ chunkSize: options.chunkSize, seed: options.hashSeed });
  }

  /** Every worker holding a prefix of the request, longest first; a malformed hash throws InvalidArgumentError. */
  run(scope: WireScope, input: LookupInput): LookupHolder[] {
    const start = performance.now();
    const span = this.#o.tracing?.start('tierkv.controller lookup', SpanKind.INTERNAL);
    let run: HashRun;
    try {
      run = input.tokens !== undefined ? hashRunFromHex(this.#hasher.hashChunks(input.tokens)) : hashRunFromBytes(hashBytes(input.hashes));
    } catch (err) {
      endSpan(span, undefined, err);
      throw err;
    }
    const holders = prefixLookup(this.#pool, this.#pool.findScope(scope), run, this.#o.chunkSize);
    this.#o.onLookup?.((performance.now() - start) / 1000);
    // Counts only: the longest prefix any worker holds and how many workers hold a prefix.
    if (span) endSpan(span, () => ({ [ATTR.KEYS_COUNT]: run.length, [ATTR.CONTROLLER_HOLDERS]: holders.length, [ATTR.PREFIX_HITS]: holders[0]?.chunks ?? 0 }));
    return holders;
  }
}
