import { createHash } from 'node:crypto';
import { encodeKey, type ObjectKey } from '@tierkv/core';

/** Longest encoded key stored verbatim; longer ones (or ones with cluster hash-tag braces) are hashed. */
export const MAX_VERBATIM_KEY_BYTES = 200;

const UNSAFE = /[{}\r\n]/;

/**
 * The Redis key of an object: `<prefix><encodeKey(key)>` when that is short and free of `{`/`}`
 * (readable in `redis-cli`), else `<prefix><chunkHash>:<rank>:#<sha256(encoded), base64url>`.
 * The two forms cannot collide: the verbatim form has a digit where the hashed one has `#`.
 * Keys are therefore bounded (prefix + ≤ 200 bytes) and spread over cluster slots by the whole
 * key; the value header also carries a CRC of the encoded key, so a value never answers for
 * another key.
 */
export function redisKeyOf(prefix: string, key: ObjectKey, encoded: string = encodeKey(key)): string {
  const short = encoded.length * 3 <= MAX_VERBATIM_KEY_BYTES || Buffer.byteLength(encoded) <= MAX_VERBATIM_KEY_BYTES;
  if (short && !UNSAFE.test(encoded)) return prefix + encoded;
  const digest = createHash('sha256').update(encoded).digest('base64url');
  return `${prefix}${key.chunkHash}:${key.kvRank}:#${digest}`;
}
