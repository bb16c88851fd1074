import { expect } from 'chai';
import fc from 'fast-check';
import { checkObjectKey, decodeKey, encodeKey, InvalidArgumentError, keysEqual, MAX_CACHE_SALT_LENGTH, MAX_MODEL_NAME_LENGTH, objectKey } from '@tierkv/core';

const runs = Number(process.env.TIERKV_PROPERTY_RUNS ?? 200);
const hashArb = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => n.toString(16).padStart(16, '0'));

describe('ObjectKey', () => {
  it('encodes and decodes any model name and salt without ambiguity', () => {
    fc.assert(
      fc.property(hashArb, fc.string({ minLength: 1, maxLength: 64 }), fc.nat(), fc.string({ maxLength: 64 }), (h, model, rank, salt) => {
        const key = objectKey(h, model, rank, salt);
        const decoded = decodeKey(encodeKey(key));
        expect(keysEqual(decoded, key)).to.equal(true);
      }),
      { numRuns: runs },
    );
  });

  it('distinct keys have distinct encodings', () => {
    fc.assert(
      fc.property(hashArb, fc.string({ minLength: 1 }), fc.string(), fc.string({ minLength: 1 }), fc.string(), (h, m1, s1, m2, s2) => {
        const a = objectKey(h, m1, 0, s1);
        const b = objectKey(h, m2, 0, s2);
        expect(encodeKey(a) === encodeKey(b)).to.equal(keysEqual(a, b));
      }),
      { numRuns: runs },
    );
  });

  it('rejects malformed parts with a message naming them', () => {
    expect(() => objectKey('xyz', 'm')).to.throw(InvalidArgumentError, /chunkHash/);
    expect(() => objectKey('0123456789abcdef', '')).to.throw(InvalidArgumentError, /modelName/);
    expect(() => objectKey('0123456789abcdef', 'm', -1)).to.throw(InvalidArgumentError, /kvRank/);
    expect(() => decodeKey('garbage')).to.throw(InvalidArgumentError, /encodedKey/);
  });

  it('bounds the key: a model name or salt over 1024 characters is refused, naming the part', () => {
    expect(objectKey('0123456789abcdef', 'm'.repeat(MAX_MODEL_NAME_LENGTH), 0, 's'.repeat(MAX_CACHE_SALT_LENGTH)).modelName).to.have.length(1024);
    expect(() => objectKey('0123456789abcdef', 'm'.repeat(240_000))).to.throw(InvalidArgumentError, /modelName.*limit \(1024\)/);
    expect(() => objectKey('0123456789abcdef', 'm', 0, 's'.repeat(1025))).to.throw(InvalidArgumentError, /cacheSalt/);
    const long = encodeKey({ chunkHash: '0123456789abcdef', modelName: 'm'.repeat(5000), kvRank: 0, cacheSalt: '' });
    expect(() => decodeKey(long)).to.throw(InvalidArgumentError, /modelName/);
  });
});

describe('checkObjectKey (the door check for keys built elsewhere)', () => {
  const ok = objectKey('0123456789abcdef', 'm', 0, 's');

  it('passes a key objectKey() built', () => {
    expect(() => checkObjectKey(ok, 'keys[0]')).to.not.throw();
  });

  it('refuses a value of the wrong shape, naming where it was', () => {
    for (const bad of [null, undefined, 'k', 7, {}, { ...ok, kvRank: '0' }, { ...ok, cacheSalt: undefined }]) {
      expect(() => checkObjectKey(bad, 'keys[3]'))
        .to.throw(InvalidArgumentError, /ObjectKey/)
        .with.property('message')
        .that.contains('keys[3]');
    }
  });

  it('refuses a model name or salt over the limits objectKey() enforces', () => {
    expect(() => checkObjectKey({ ...ok, modelName: 'm'.repeat(MAX_MODEL_NAME_LENGTH + 1) }, 'k')).to.throw(InvalidArgumentError, /longer than/);
    expect(() => checkObjectKey({ ...ok, cacheSalt: 's'.repeat(MAX_CACHE_SALT_LENGTH + 1) }, 'k')).to.throw(InvalidArgumentError, /longer than/);
    expect(() => checkObjectKey({ ...ok, modelName: 'm'.repeat(MAX_MODEL_NAME_LENGTH) }, 'k')).to.not.throw();
  });
});
