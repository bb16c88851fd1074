import { encodeKey, objectKey, type EncodedKey, type ObjectKey } from '@tierkv/core';

export const BENCH_MODEL = 'bench-model';

/** `count` distinct ObjectKeys (chunk hashes 0, 1, 2 … as 16 hex digits), starting at `first`. */
export function benchKeys(count: number, first = 0): ObjectKey[] {
  const keys: ObjectKey[] = new Array(count);
  for (let i = 0; i < count; i++) keys[i] = objectKey((first + i).toString(16).padStart(16, '0'), BENCH_MODEL);
  return keys;
}

/** The canonical strings of the same keys: what a user of lru-cache or a Map would key by. */
export function encodedKeys(keys: readonly ObjectKey[]): EncodedKey[] {
  return keys.map(encodeKey);
}

/** A visiting order that touches every index once without walking memory sequentially. */
export function scatteredOrder(count: number): Uint32Array {
  const order = new Uint32Array(count);
  const stride = 7919; // prime, larger than any factor of our counts (powers of 2 and 10)
  for (let i = 0; i < count; i++) order[i] = (i * stride) % count;
  return order;
}
