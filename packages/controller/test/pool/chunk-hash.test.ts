import { expect } from 'chai';
import { InvalidArgumentError } from '@tierkv/core';
import { bytesToHashes, hashBytes, hashesToBytes } from '../../src/pool/chunk-hash.js';

describe('hashBytes (the chunk hash forms a lookup accepts)', () => {
  const hex = ['0123456789abcdef', 'fedcba9876543210', '0000000000000001'];

  it('turns 16-hex-char strings into 8 big-endian bytes each', () => {
    expect(bytesToHashes(hashBytes(hex))).to.deep.equal(hex);
  });

  it('takes bytes as they are, without a copy', () => {
    const bytes = hashesToBytes(hex);
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(hashBytes(view)).to.equal(view);
    expect(hashBytes(bytes)).to.equal(bytes);
  });

  it('reads a BigUint64Array as one hash value per element', () => {
    const values = BigUint64Array.from(hex.map((h) => BigInt(`0x${h}`)));
    expect(bytesToHashes(hashBytes(values))).to.deep.equal(hex);
    // The caller's array is not byte-swapped in place.
    expect(values[0]).to.equal(0x0123456789abcdefn);
    expect(bytesToHashes(hashBytes(values.subarray(1)))).to.deep.equal(hex.slice(1));
  });

  it('refuses bytes that are not a multiple of 8, naming the length', () => {
    expect(() => hashBytes(new Uint8Array(12))).to.throw(InvalidArgumentError, /12 bytes.*multiple of 8/);
  });

  it('refuses other typed arrays and non-arrays', () => {
    expect(() => hashBytes(new Uint32Array(4) as never)).to.throw(InvalidArgumentError, /Uint32Array/);
    expect(() => hashBytes('0123456789abcdef' as never)).to.throw(InvalidArgumentError, /got string/);
  });

  it('refuses a malformed hex hash, naming its index', () => {
    expect(() => hashBytes(['0123456789abcdef', '0123456789abcdeg'])).to.throw(InvalidArgumentError, /entry 1/);
    expect(() => hashBytes(['0123'])).to.throw(InvalidArgumentError, /entry 0/);
  });
});
