import { expect } from 'chai';
import fc from 'fast-check';
import { decodeHeader, decodePrelude, encodeErrorReply, encodePrelude, encodeReply, encodeRequest, framesBytes } from '../../src/protocol/codec.js';
import { KIND_REPLY, KIND_REQUEST, PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { WireError } from '../../src/protocol/wire-error.js';

const RUNS = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);

describe('protocol/codec', () => {
  it('round-trips the prelude for any request id', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.constantFrom(KIND_REQUEST, KIND_REPLY), (id, kind) => {
        const p = decodePrelude(encodePrelude(kind, id));
        expect(p).to.deep.equal({ version: PROTOCOL_VERSION, kind, id });
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps chunk frames as the very same buffers (no copy)', () => {
    const chunk = new Uint8Array(4096).fill(7);
    const frames = encodeRequest(42, { type: 'store', keys: [] }, [chunk]);
    expect(frames).to.have.length(3);
    expect(frames[2]).to.equal(chunk);
    expect(decodePrelude(frames[0]).id).to.equal(42);
    expect(decodeHeader(frames[1])).to.deep.equal({ type: 'store', keys: [] });
    expect(framesBytes(frames, 2)).to.equal(4096);
  });

  it('round-trips headers with strings, numbers, booleans and binary', () => {
    fc.assert(
      fc.property(
        fc.record({ type: fc.string(), n: fc.integer(), b: fc.boolean(), keys: fc.array(fc.string(), { maxLength: 8 }), bin: fc.uint8Array({ maxLength: 64 }) }),
        (header) => {
          const decoded = decodeHeader(encodeReply(1, header)[1]);
          expect(decoded['type']).to.equal(header.type);
          expect(decoded['n']).to.equal(header.n);
          expect(decoded['b']).to.equal(header.b);
          expect(decoded['keys']).to.deep.equal(header.keys);
          expect(Buffer.from(decoded['bin'] as Uint8Array).equals(Buffer.from(header.bin))).to.equal(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('encodes error replies with code, message and field', () => {
    const frames = encodeErrorReply(9, 'BAD_REQUEST', 'keys must be an array', 'keys');
    expect(decodePrelude(frames[0]).kind).to.equal(KIND_REPLY);
    expect(decodeHeader(frames[1])).to.deep.equal({ ok: false, code: 'BAD_REQUEST', message: 'keys must be an array', field: 'keys' });
  });

  it('rejects frames that are not a tierkv prelude', () => {
    for (const bad of [undefined, Buffer.alloc(0), Buffer.from('hello world'), Buffer.from([0x54, 0x4b, 1, 0, 0, 0, 0])]) {
      expect(() => decodePrelude(bad)).to.throw(WireError).with.property('code', 'MALFORMED');
    }
    const future = encodePrelude(KIND_REQUEST, 1);
    future[2] = 99;
    expect(() => decodePrelude(future)).to.throw(/version 99/);
  });

  it('rejects headers that are not one msgpack map', () => {
    for (const bad of [Buffer.alloc(0), Buffer.from([0xc1]), Buffer.from([0x01]), Buffer.from([0x91, 0x01]), Buffer.from([0x82, 0xa1])]) {
      expect(() => decodeHeader(bad)).to.throw(WireError).with.property('code', 'MALFORMED');
    }
  });

  it('never throws anything but WireError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeHeader(Buffer.from(bytes));
        } catch (err) {
          expect(err).to.be.instanceOf(WireError);
        }
        try {
          decodePrelude(Buffer.from(bytes));
        } catch (err) {
          expect(err).to.be.instanceOf(WireError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
