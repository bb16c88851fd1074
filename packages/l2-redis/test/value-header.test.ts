import { expect } from 'chai';
import fc from 'fast-check';
import { VALUE_HEADER_BYTES, decodeValueInto, encodeValue, keyChecksum } from '../src/value-header.js';

const runs = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);
const KEY = keyChecksum('0123456789abcdef:0:1:m');

describe('value header', () => {
  it('round-trips any payload (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (payload) => {
        const value = encodeValue(payload, KEY);
        expect(value.length).to.equal(VALUE_HEADER_BYTES + payload.length);
        const target = new Uint8Array(payload.length);
        expect(decodeValueInto(value, KEY, target)).to.equal(undefined);
        expect(Buffer.compare(Buffer.from(target), Buffer.from(payload))).to.equal(0);
      }),
      { numRuns: runs },
    );
  });

  it('rejects every truncation, never touching the target (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.nat(), (payload, cut) => {
        const value = encodeValue(payload, KEY);
        const short = value.subarray(0, cut % value.length);
        const target = new Uint8Array(payload.length).fill(0xaa);
        expect(decodeValueInto(short, KEY, target)).to.be.oneOf(['truncated', 'bad_header']);
        expect(target.every((b) => b === 0xaa)).to.equal(true);
      }),
      { numRuns: runs },
    );
  });

  it('detects a flipped payload bit, another key, a wrong size and a foreign value', () => {
    const payload = new Uint8Array(1000).map((_, i) => i * 7);
    const value = encodeValue(payload, KEY);
    const flipped = Buffer.from(value);
    flipped[VALUE_HEADER_BYTES + 500]! ^= 0x10;
    expect(decodeValueInto(flipped, KEY, new Uint8Array(1000))).to.equal('checksum');
    expect(decodeValueInto(value, keyChecksum('another'), new Uint8Array(1000))).to.equal('key_mismatch');
    expect(decodeValueInto(value, KEY, new Uint8Array(999))).to.equal('size_mismatch');
    expect(decodeValueInto(Buffer.from('plain string value, not ours'), KEY, new Uint8Array(1000))).to.equal('bad_header');
    const extended = Buffer.concat([value, Buffer.from([1])]);
    expect(decodeValueInto(extended, KEY, new Uint8Array(1000))).to.equal('bad_header');
  });

  it("without a checksum (checksum: 'none') still catches truncation and other keys, and loads either way", () => {
    const payload = new Uint8Array(1000).map((_, i) => i * 3);
    const value = encodeValue(payload, KEY, false);
    expect(value.readUInt32BE(16)).to.equal(0);
    const target = new Uint8Array(1000);
    expect(decodeValueInto(value, KEY, target)).to.equal(undefined);
    expect(Buffer.compare(target, payload)).to.equal(0);
    expect(decodeValueInto(value.subarray(0, 900), KEY, target)).to.equal('truncated');
    expect(decodeValueInto(value, keyChecksum('another'), target)).to.equal('key_mismatch');
    const unknownFlag = Buffer.from(value);
    unknownFlag[5] = 0x80;
    expect(decodeValueInto(unknownFlag, KEY, target)).to.equal('bad_header');
  });
});
