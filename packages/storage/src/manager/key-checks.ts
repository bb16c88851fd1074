import { InvalidArgumentError, MAX_CACHE_SALT_LENGTH, MAX_MODEL_NAME_LENGTH, type ObjectKey } from '@tierkv/core';

/**
 * Checks a key list at the manager's door, before anything changes: a typed error naming the bad
 * argument instead of a TypeError from deep inside (`delete("x")`, `readPrefetched(null)`, …).
 */
export function checkKeyList(keys: unknown, name = 'keys', what = 'an array of ObjectKey'): asserts keys is readonly ObjectKey[] {
  if (!Array.isArray(keys)) throw new InvalidArgumentError(name, `expected ${what}, got ${keys === null ? 'null' : typeof keys}`);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as ObjectKey | null | undefined;
    if (k === null || typeof k !== 'object' || typeof k.chunkHash !== 'string' || typeof k.modelName !== 'string' || typeof k.kvRank !== 'number' || typeof k.cacheSalt !== 'string') {
      throw new InvalidArgumentError(`${name}[${i}]`, 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey() or TokenHasher.keysFor()');
    }
    if (k.modelName.length > MAX_MODEL_NAME_LENGTH || k.cacheSalt.length > MAX_CACHE_SALT_LENGTH) {
      throw new InvalidArgumentError(`${name}[${i}]`, `model name or salt longer than ${MAX_MODEL_NAME_LENGTH} characters (objectKey() refuses them too); use a shorter name or a digest of it`);
    }
  }
}
