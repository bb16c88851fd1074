import { createHash } from 'node:crypto';
import { objectKey, type ObjectKey } from '@tierkv/core';

/** A deterministic ObjectKey for test index `i`. */
export function testKey(i: number, model = 'test-model'): ObjectKey {
  return objectKey(createHash('sha256').update(`k${i}`).digest('hex').slice(0, 16), model);
}

/** `size` bytes derived from `seed`, different for every seed. */
export function patternBytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
