import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/** A 64-bit chained chunk hash as 16 lowercase hex characters (see TokenHasher). */
export type ChunkHash = string;

/** The canonical string form of an ObjectKey: a Map key, a wire key, never a metric attribute. */
export type EncodedKey = string & { readonly __brand: 'EncodedKey' };

/** Identifies one chunk: the chained hash of its token prefix, for one model, KV rank and salt. */
export interface ObjectKey {
  readonly chunkHash: ChunkHash;
  readonly modelName: string;
  readonly kvRank: number;
  readonly cacheSalt: string;
}

const CHUNK_HASH_RE = /^[0-9a-f]{16}$/;

/**
 * Longest model name and cache salt a key may carry (UTF-16 code units, as the controller's wire
 * checks): every index, queue and L2 header holds key bytes, so a key is bounded like a chunk is.
 */
export const MAX_MODEL_NAME_LENGTH = 1024;
export const MAX_CACHE_SALT_LENGTH = 1024;

export function isChunkHash(value: unknown): value is ChunkHash {
  return typeof value === 'string' && CHUNK_HASH_RE.test(value);
}

/** Builds a validated ObjectKey. */
export function objectKey(chunkHash: ChunkHash, modelName: string, kvRank = 0, cacheSalt = ''): ObjectKey {
  if (!isChunkHash(chunkHash)) {
    throw new InvalidArgumentError('chunkHash', `expected 16 lowercase hex characters, got ${JSON.stringify(chunkHash)}; use TokenHasher to compute chunk hashes`);
  }
  if (typeof modelName !== 'string' || modelName.length === 0) {
    throw new InvalidArgumentError('modelName', 'expected a non-empty string');
  }
  if (modelName.length > MAX_MODEL_NAME_LENGTH) {
    throw new InvalidArgumentError('modelName', `${modelName.length} characters is longer than the limit (${MAX_MODEL_NAME_LENGTH}); use a shorter model name or a digest of it`);
  }
  if (!Number.isInteger(kvRank) || kvRank < 0 || kvRank > 0xffff_ffff) {
    throw new InvalidArgumentError('kvRank', `expected an integer in [0, 2^32), got ${kvRank}`);
  }
  if (typeof cacheSalt !== 'string') {
    throw new InvalidArgumentError('cacheSalt', 'expected a string (use "" for no salt)');
  }
  if (cacheSalt.length > MAX_CACHE_SALT_LENGTH) {
    throw new InvalidArgumentError('cacheSalt', `${cacheSalt.length} characters is longer than the limit (${MAX_CACHE_SALT_LENGTH}); use a digest of the salt`);
  }
  return { chunkHash, modelName, kvRank, cacheSalt };
}

/**
 * Checks that a caller-supplied value is an ObjectKey within the limits objectKey() enforces, with
 * a typed error naming `name` (e.g. `keys[3]`): one check for every door that takes keys built
 * elsewhere (the storage manager, the server client), instead of a TypeError from deep inside.
 */
export function checkObjectKey(k: unknown, name: string): asserts k is ObjectKey {
  const o = k as Partial<ObjectKey> | null | undefined;
  if (o === null || typeof o !== 'object' || typeof o.chunkHash !== 'string' || typeof o.modelName !== 'string' || typeof o.kvRank !== 'number' || typeof o.cacheSalt !== 'string') {
    throw new InvalidArgumentError(name, 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey() or TokenHasher.keysFor()');
  }
  if (o.modelName.length > MAX_MODEL_NAME_LENGTH || o.cacheSalt.length > MAX_CACHE_SALT_LENGTH) {
    throw new InvalidArgumentError(name, `model name or salt longer than ${MAX_MODEL_NAME_LENGTH} characters (objectKey() refuses them too); use a shorter name or a digest of it`);
  }
}

/**
 * Canonical encoding `<hash>:<rank>:<modelLength>:<model><salt>`. The hash has a fixed width and
 * the model is length-prefixed, so any model name or salt round-trips unambiguously.
 */
export function encodeKey(key: ObjectKey): EncodedKey {
  return `${key.chunkHash}:${key.kvRank}:${key.modelName.length}:${key.modelName}${key.cacheSalt}` as EncodedKey;
}

/** Inverse of encodeKey; throws InvalidArgumentError on a string encodeKey could not have produced. */
export function decodeKey(encoded: string): ObjectKey {
  const fail = (): never => {
    throw new InvalidArgumentError('encodedKey', `not a tierkv key encoding: ${JSON.stringify(encoded.slice(0, 80))}`);
  };
  if (encoded.length < 22 || encoded[16] !== ':') return fail();
  const rankEnd = encoded.indexOf(':', 17);
  if (rankEnd < 0) return fail();
  const lenEnd = encoded.indexOf(':', rankEnd + 1);
  if (lenEnd < 0) return fail();
  const rank = Number(encoded.slice(17, rankEnd));
  const modelLength = Number(encoded.slice(rankEnd + 1, lenEnd));
  if (!Number.isInteger(modelLength) || modelLength <= 0 || lenEnd + 1 + modelLength > encoded.length) return fail();
  const model = encoded.slice(lenEnd + 1, lenEnd + 1 + modelLength);
  return objectKey(encoded.slice(0, 16), model, rank, encoded.slice(lenEnd + 1 + modelLength));
}

export function keysEqual(a: ObjectKey, b: ObjectKey): boolean {
  return a.chunkHash === b.chunkHash && a.kvRank === b.kvRank && a.modelName === b.modelName && a.cacheSalt === b.cacheSalt;
}
