import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { objectKey, type ChunkHash, type ObjectKey } from '../keys/object-key.js';

export interface TokenHasherOptions {
  /** Tokens per chunk. @default 256 (LMCache's default) */
  chunkSize?: number;
  /** Mixed into chunk 0's hash so deployments that must never share chunks can be kept apart. @default '' */
  seed?: string;
}

export interface HashOptions {
  /** Also hash a trailing partial chunk. LMCache stores only full chunks unless asked. @default false */
  includePartial?: boolean;
}

export interface KeyScope {
  modelName: string;
  kvRank?: number;
  cacheSalt?: string;
}

export const DEFAULT_CHUNK_SIZE = 256;
const HASH_BYTES = 8;

/**
 * Turns a token sequence into chained per-chunk hashes: chunk i's hash covers chunk i-1's hash and
 * chunk i's tokens, so two sequences share hash i exactly when they share the first i+1 chunks.
 * SHA-256 truncated to 64 bits: collision-safe for billions of chunks and cheap to store.
 */
export class TokenHasher {
  readonly chunkSize: number;
  readonly #seed: Buffer;

  constructor(options: TokenHasherOptions = {}) {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize <= 0 || chunkSize > 1 << 20) {
      throw new InvalidArgumentError('chunkSize', `expected an integer in [1, 1048576], got ${chunkSize}`);
    }
    this.chunkSize = chunkSize;
    this.#seed = createHash('sha256').update(`tierkv:${options.seed ?? ''}`).digest().subarray(0, HASH_BYTES);
  }

  /** Number of chunks `tokenCount` tokens make. */
  chunkCount(tokenCount: number, options: HashOptions = {}): number {
    return options.includePartial ? Math.ceil(tokenCount / this.chunkSize) : Math.floor(tokenCount / this.chunkSize);
  }

  /** The chained hash of every (full) chunk of `tokens`, in order. */
  hashChunks(tokens: ArrayLike<number>, options: HashOptions = {}): ChunkHash[] {
    const words = toUint32(tokens);
    const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
    const count = this.chunkCount(words.length, options);
    const hashes: ChunkHash[] = new Array(count);
    let prev: Buffer = this.#seed;
    for (let i = 0; i < count; i++) {
      const start = i * this.chunkSize * 4;
      const end = Math.min(start + this.chunkSize * 4, bytes.length);
      const digest = createHash('sha256').update(prev).update(bytes.subarray(start, end)).digest();
      prev = digest.subarray(0, HASH_BYTES);
      hashes[i] = prev.toString('hex');
    }
    return hashes;
  }

  /** ObjectKeys for every (full) chunk of `tokens` under one model / rank / salt. */
  keysFor(tokens: ArrayLike<number>, scope: KeyScope, options: HashOptions = {}): ObjectKey[] {
    return this.hashChunks(tokens, options).map((h) => objectKey(h, scope.modelName, scope.kvRank ?? 0, scope.cacheSalt ?? ''));
  }
}

function toUint32(tokens: ArrayLike<number>): Uint32Array {
  if (tokens instanceof Uint32Array) return tokens;
  const out = new Uint32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > 0xffff_ffff) {
      throw new InvalidArgumentError('tokens', `token ${i} is ${t}; token ids must be integers in [0, 2^32)`);
    }
    out[i] = t;
  }
  return out;
}
