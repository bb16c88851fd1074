import { expect } from 'chai';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { selectXxh3, type Xxh3Hasher } from '@tierkv/storage';
import { VALUE_HEADER_BYTES, decodeValueInto, encodeValue, keyChecksum, layoutChecksum } from '../src/value-header.js';

const runs = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);
const KEY = keyChecksum('0123456789abcdef:0:1:m');

/**
 * A version-2 value exactly as the previous code wrote it (28-byte header, CRC-32 of the payload,
 * flag bit 0 for checksum 'none'), built byte by byte so it does not depend on today's encoder.
 */
function v2Value(payload: Uint8Array, keyCrc: number, withChecksum: boolean, layoutCrc = 0): Buffer {
  const h = Buffer.alloc(28);
  h.write('TKVR', 0, 'latin1');
  h[4] = 2;
  h[5] = withChecksum ? 0 : 1;
  h.writeUInt16BE(28, 6);
  h.writeUInt32BE(Math.floor(payload.byteLength / 2 ** 32), 8);
  h.writeUInt32BE(payload.byteLength >>> 0, 12);
  h.writeUInt32BE(withChecksum ? crc32(payload) : 0, 16);
  h.writeUInt32BE(keyCrc >>> 0, 20);
  h.writeUInt32BE(layoutCrc >>> 0, 24);
  return Buffer.concat([h, payload]);
}

describe('value header', () => {
  let hasher: Xxh3Hasher;
  before(async () => {
    hasher = await selectXxh3();
  });

  it('round-trips any payload with each checksum (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.constantFrom('xxh3' as const, 'crc32' as const, 'none' as const), (payload, checksum) => {
        const value = encodeValue(payload, KEY, checksum, hasher);
        expect(value.length).to.equal(VALUE_HEADER_BYTES + payload.length);
        const target = new Uint8Array(payload.length);
        expect(decodeValueInto(value, KEY, target, hasher)).to.equal(undefined);
        expect(Buffer.compare(Buffer.from(target), Buffer.from(payload))).to.equal(0);
      }),
      { numRuns: runs },
    );
  });

  it('version 3 records the algorithm: XXH3-64 by default, its digest in bytes 16-23', () => {
    const payload = new Uint8Array(1000).map((_, i) => i * 7);
    const value = encodeValue(payload, KEY, 'xxh3', hasher);
    expect(value[4]).to.equal(3);
    expect(value[5]).to.equal(2);
    expect(Buffer.compare(value.subarray(16, 24), Buffer.from(hasher.digest(payload)))).to.equal(0);
    expect(encodeValue(payload, KEY, 'crc32', hasher)[5]).to.equal(1);
    expect(encodeValue(payload, KEY, 'none', hasher)[5]).to.equal(0);
  });

  it('rejects every truncation, never touching the target (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.nat(), (payload, cut) => {
        const value = encodeValue(payload, KEY, 'xxh3', hasher);
        const short = value.subarray(0, cut % value.length);
        const target = new Uint8Array(payload.length).fill(0xaa);
        expect(decodeValueInto(short, KEY, target, hasher)).to.be.oneOf(['truncated', 'bad_header']);
        expect(target.every((b) => b === 0xaa)).to.equal(true);
      }),
      { numRuns: runs },
    );
  });

  it('detects a flipped payload bit (property over positions), another key, a wrong size and a foreign value', () => {
    const payload = new Uint8Array(1000).map((_, i) => i * 7);
    const value = encodeValue(payload, KEY, 'xxh3', hasher);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const flipped = Buffer.from(value);
        flipped[VALUE_HEADER_BYTES + at]! ^= 1 << bit;
        const target = new Uint8Array(1000).fill(0xaa);
        expect(decodeValueInto(flipped, KEY, target, hasher)).to.equal('checksum');
        expect(target.every((b) => b === 0xaa)).to.equal(true);
      }),
      { numRuns: runs },
    );
    const wrongDigest = Buffer.from(value);
    wrongDigest[20]! ^= 0x01;
    expect(decodeValueInto(wrongDigest, KEY, new Uint8Array(1000), hasher)).to.equal('checksum');
    expect(decodeValueInto(value, keyChecksum('another'), new Uint8Array(1000), hasher)).to.equal('key_mismatch');
    expect(decodeValueInto(value, KEY, new Uint8Array(999), hasher)).to.equal('size_mismatch');
    expect(decodeValueInto(Buffer.from('plain string value, not ours'), KEY, new Uint8Array(1000), hasher)).to.equal('bad_header');
    const extended = Buffer.concat([value, Buffer.from([1])]);
    expect(decodeValueInto(extended, KEY, new Uint8Array(1000), hasher)).to.equal('bad_header');
    const unknownAlgorithm = Buffer.from(value);
    unknownAlgorithm[5] = 3;
    expect(decodeValueInto(unknownAlgorithm, KEY, new Uint8Array(1000), hasher)).to.equal('bad_header');
  });

  it("without a checksum (checksum: 'none') still catches truncation and other keys, and loads either way", () => {
    const payload = new Uint8Array(1000).map((_, i) => i * 3);
    const value = encodeValue(payload, KEY, 'none', hasher);
    expect(value.readUInt32BE(16)).to.equal(0);
    const target = new Uint8Array(1000);
    expect(decodeValueInto(value, KEY, target, hasher)).to.equal(undefined);
    expect(Buffer.compare(target, payload)).to.equal(0);
    expect(decodeValueInto(value.subarray(0, 900), KEY, target, hasher)).to.equal('truncated');
    expect(decodeValueInto(value, keyChecksum('another'), target, hasher)).to.equal('key_mismatch');
  });

  it('reads version-2 values (CRC-32, as the previous code wrote them) and still catches a corrupt one', () => {
    const payload = new Uint8Array(5000).map((_, i) => (i * 13) ^ 0x5a);
    const layoutCrc = layoutChecksum('{"bytes":5000}');
    const old = v2Value(payload, KEY, true, layoutCrc);
    const target = new Uint8Array(5000);
    expect(decodeValueInto(old, KEY, target, hasher, layoutCrc)).to.equal(undefined);
    expect(Buffer.compare(target, payload)).to.equal(0);
    expect(decodeValueInto(old, KEY, target, hasher, layoutCrc + 1)).to.equal('layout_mismatch');
    const flipped = Buffer.from(old);
    flipped[28 + 4321]! ^= 0x04;
    const untouched = new Uint8Array(5000).fill(0xaa);
    expect(decodeValueInto(flipped, KEY, untouched, hasher, layoutCrc)).to.equal('checksum');
    expect(untouched.every((b) => b === 0xaa)).to.equal(true);
    expect(decodeValueInto(old.subarray(0, 4000), KEY, target, hasher)).to.equal('truncated');
    // A version-2 value written with checksum 'none' loads; unknown version-2 flags do not.
    const plain = v2Value(payload, KEY, false);
    expect(decodeValueInto(plain, KEY, target, hasher)).to.equal(undefined);
    const unknownFlag = Buffer.from(plain);
    unknownFlag[5] = 0x80;
    expect(decodeValueInto(unknownFlag, KEY, target, hasher)).to.equal('bad_header');
    // Version 1 was never readable by the version-2 code either.
    const v1 = Buffer.from(old);
    v1[4] = 1;
    expect(decodeValueInto(v1, KEY, target, hasher)).to.equal('bad_header');
  });
});
