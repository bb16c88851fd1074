import { createHash } from 'node:crypto';
import { TokenHasher } from '@tierkv/core';
import type { BenchMeasurement, BenchScenario } from '../scenario.js';
import { interleave, QUICK_BUDGET_MS } from '../timing.js';

const CHUNK_TOKENS = 256;
const HASH_BYTES = 8;
const RAW = 'node:crypto sha256 chain (raw)';
const HASHER = 'TokenHasher.hashChunks (Uint32Array)';
const HASHER_ARRAY = 'TokenHasher.hashChunks (number[])';

/** The same chained SHA-256 over the same bytes, with nothing else: no hex, no validation, no keys. */
function rawChain(seed: Buffer, bytes: Buffer, chunkBytes: number): Buffer {
  let prev = seed;
  for (let start = 0; start + chunkBytes <= bytes.length; start += chunkBytes) {
    prev = createHash('sha256').update(prev).update(bytes.subarray(start, start + chunkBytes)).digest().subarray(0, HASH_BYTES);
  }
  return prev;
}

/**
 * Chained chunk hashing of a 32k-token prompt (128 chunks of 256 tokens) by TokenHasher, against
 * the bare `node:crypto` loop over the same bytes: the difference is TokenHasher's own work
 * (hex strings, and for number[] input the validation and conversion to Uint32Array).
 */
export const tokenHashingScenario: BenchScenario = {
  name: 'core.token-hashing',
  description: 'TokenHasher chained chunk hashes vs raw node:crypto SHA-256 over the same bytes',
  async run(ctx): Promise<BenchMeasurement[]> {
    const tokenCount = 128 * CHUNK_TOKENS;
    const words = new Uint32Array(tokenCount);
    for (let i = 0; i < tokenCount; i++) words[i] = (i * 2654435761) % 128_000;
    const asArray = Array.from(words);
    const bytes = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
    const hasher = new TokenHasher({ chunkSize: CHUNK_TOKENS });
    const seed = createHash('sha256').update('tierkv:').digest().subarray(0, HASH_BYTES);

    // The reference must compute what TokenHasher computes, or the comparison means nothing.
    const expected = hasher.hashChunks(words);
    const last = rawChain(seed, bytes, CHUNK_TOKENS * 4).toString('hex');
    if (expected[expected.length - 1] !== last) throw new Error(`raw chain ${last} differs from TokenHasher ${expected[expected.length - 1]}`);

    const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
    const [raw, typed, array] = interleave(budget, [
      () => (rawChain(seed, bytes, CHUNK_TOKENS * 4), bytes.length),
      () => (hasher.hashChunks(words), bytes.length),
      () => (hasher.hashChunks(asArray), bytes.length),
    ]) as [number, number, number];
    const note = `${tokenCount} tokens, ${tokenCount / CHUNK_TOKENS} chunks per call`;
    return [
      { subject: RAW, value: raw, unit: 'B/s', note },
      { subject: HASHER, value: typed, unit: 'B/s', reference: RAW },
      { subject: HASHER_ARRAY, value: array, unit: 'B/s', reference: RAW },
    ];
  },
};
