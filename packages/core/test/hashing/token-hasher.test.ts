import { createHash } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidArgumentError, TokenHasher } from '@tierkv/core';

const runs = Number(process.env.TIERKV_PROPERTY_RUNS ?? 200);

describe('TokenHasher', () => {
  const hasher = new TokenHasher({ chunkSize: 4 });

  it('hash i is equal exactly when the first i+1 chunks are equal', () => {
    const tokens = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 24 });
    fc.assert(
      fc.property(tokens, tokens, (a, b) => {
        const ha = hasher.hashChunks(a);
        const hb = hasher.hashChunks(b);
        for (let i = 0; i < Math.min(ha.length, hb.length); i++) {
          const samePrefix = a.slice(0, (i + 1) * 4).every((t, j) => t === b[j]);
          expect(ha[i] === hb[i]).to.equal(samePrefix);
        }
      }),
      { numRuns: runs },
    );
  });

  it('hashes full chunks only unless asked for the partial one', () => {
    expect(hasher.hashChunks([1, 2, 3, 4, 5, 6])).to.have.length(1);
    expect(hasher.hashChunks([1, 2, 3, 4, 5, 6], { includePartial: true })).to.have.length(2);
    expect(hasher.hashChunks([1, 2, 3])).to.have.length(0);
    expect(hasher.chunkCount(1000)).to.equal(250);
  });

  it('is deterministic, seed-separated, and equal for arrays and Uint32Arrays', () => {
    const tokens = Array.from({ length: 512 }, (_, i) => i * 7);
    const h = new TokenHasher();
    expect(h.hashChunks(tokens)).to.deep.equal(new TokenHasher().hashChunks(Uint32Array.from(tokens)));
    expect(h.hashChunks(tokens)[0]).not.to.equal(new TokenHasher({ seed: 'other' }).hashChunks(tokens)[0]);
    expect(h.hashChunks(tokens)[0]).to.match(/^[0-9a-f]{16}$/);
  });

  it('chains: chunk 1 covers chunk 0', () => {
    const h = new TokenHasher({ chunkSize: 2 });
    const [, second] = h.hashChunks([1, 2, 3, 4]);
    const [, other] = h.hashChunks([9, 9, 3, 4]);
    expect(second).not.to.equal(other);
    // the first link is SHA-256 over the seed digest and the little-endian token words
    const seed = createHash('sha256').update('tierkv:').digest().subarray(0, 8);
    const first = createHash('sha256').update(seed).update(Buffer.from(Uint32Array.from([1, 2]).buffer)).digest();
    expect(h.hashChunks([1, 2])[0]).to.equal(first.subarray(0, 8).toString('hex'));
  });

  it('builds keys and rejects bad input', () => {
    const keys = hasher.keysFor([1, 2, 3, 4], { modelName: 'llama', kvRank: 1 });
    expect(keys[0]).to.include({ modelName: 'llama', kvRank: 1, cacheSalt: '' });
    expect(() => hasher.hashChunks([1, -2, 3, 4])).to.throw(InvalidArgumentError, /token 1/);
    expect(() => new TokenHasher({ chunkSize: 0 })).to.throw(InvalidArgumentError, /chunkSize/);
  });
});
