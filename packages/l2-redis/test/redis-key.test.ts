import { expect } from 'chai';
import fc from 'fast-check';
import { encodeKey, objectKey } from '@tierkv/core';
import { redisKeyOf } from '@tierkv/l2-redis';

const runs = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);
const hex16 = fc.stringMatching(/^[0-9a-f]{16}$/);
const keyArb = fc.record({
  hash: hex16,
  model: fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }),
  rank: fc.integer({ min: 0, max: 0xffff_ffff }),
  salt: fc.string({ maxLength: 100, unit: 'binary' }),
});

describe('redisKeyOf', () => {
  it('keeps short keys readable: prefix + encoded key', () => {
    const k = objectKey('0123456789abcdef', 'llama-3-8b', 2, 's');
    expect(redisKeyOf('tierkv:', k)).to.equal(`tierkv:${encodeKey(k)}`);
  });

  it('hashes long keys and keys with hash-tag braces', () => {
    const long = objectKey('0123456789abcdef', 'm'.repeat(500));
    const braces = objectKey('0123456789abcdef', 'model{x}');
    for (const k of [long, braces]) {
      const rk = redisKeyOf('p:', k);
      expect(rk).to.match(/^p:0123456789abcdef:0:#[A-Za-z0-9_-]{43}$/);
      expect(rk).not.to.match(/[{}]/);
    }
  });

  it('is bounded and injective (property)', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        const ka = objectKey(a.hash, a.model, a.rank, a.salt);
        const kb = objectKey(b.hash, b.model, b.rank, b.salt);
        const ra = redisKeyOf('x:', ka);
        const rb = redisKeyOf('x:', kb);
        expect(Buffer.byteLength(ra)).to.be.at.most(2 + 200);
        expect(ra === rb).to.equal(encodeKey(ka) === encodeKey(kb));
      }),
      { numRuns: runs },
    );
  });
});
