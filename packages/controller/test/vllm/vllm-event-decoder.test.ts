import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { decodeVllmBatch } from '../../src/vllm/vllm-event-decoder.js';
import fc from 'fast-check';
import { canonicalHash, hashHalves, parseHashHalves, parseHashInput } from '../../src/vllm/vllm-hash.js';

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
const decode = (v: unknown) => decodeVllmBatch(packr.pack(v));
const BIG = (1n << 63n) + 12345n; // above 2^53: a float would lose it

describe('vLLM event decoder', () => {
  it('accepts BlockStored in every tagged-array length from the oldest form up', () => {
    // Fields after the tag, in vLLM's order; each release appended some.
    const full = [[1, 2], null, [7, 8, 9], 16, null, 'CPU', 'lora-a', [null, null], 0, 'full_attention', null];
    for (let n = 1; n <= full.length; n++) {
      const d = decode([1.5, [['BlockStored', ...full.slice(0, n)]], 0]);
      expect(d.ok, `length ${n}`).to.equal(true);
      if (!d.ok) continue;
      const e = d.batch.events[0]!;
      expect(e.type).to.equal('BlockStored');
      if (e.type !== 'BlockStored') continue;
      expect(e.hashes).to.deep.equal([1n, 2n]);
      expect(e.medium).to.equal(n >= 6 ? 'cpu' : 'gpu');
    }
  });

  it('accepts BlockRemoved of every length, AllBlocksCleared, and the map forms (v0.26+)', () => {
    for (const ev of [['BlockRemoved', [3]], ['BlockRemoved', [3], 'DISK'], ['BlockRemoved', [3], null, 1]]) {
      const d = decode([0, [ev]]);
      expect(d.ok).to.equal(true);
    }
    const d = decode({
      ts: 2.5,
      events: [{ type: 'BlockStored', block_hashes: [BIG], token_ids: [1], block_size: 16 }, { type: 'BlockRemoved', block_hashes: [5], medium: 'CPU' }, { type: 'AllBlocksCleared' }],
      data_parallel_rank: 3,
    });
    expect(d.ok).to.equal(true);
    if (!d.ok) return;
    expect(d.batch.dataParallelRank).to.equal(3);
    expect(d.batch.events).to.deep.equal([
      { type: 'BlockStored', hashes: [BIG], parent: undefined, medium: 'gpu', blockSize: 16, loraName: undefined },
      { type: 'BlockRemoved', hashes: [5n], medium: 'cpu' },
      { type: 'AllBlocksCleared' },
    ]);
  });

  it('keeps uint64 hashes above 2^53 exact, and reads bin hashes as their last 8 bytes big-endian', () => {
    const sha = Buffer.alloc(32, 0xaa);
    sha.writeBigUInt64BE(BIG, 24);
    const xxh = Buffer.alloc(16, 0x11);
    xxh.writeBigUInt64BE(0xfedcba9876543210n, 8);
    const d = decode([0, [['BlockStored', [BIG, sha, xxh], sha]]]);
    expect(d.ok).to.equal(true);
    if (!d.ok || d.batch.events[0]!.type !== 'BlockStored') return;
    expect(d.batch.events[0]!.hashes).to.deep.equal([BIG, BIG, 0xfedcba9876543210n]);
    expect(d.batch.events[0]!.parent).to.equal(BIG);
    expect(canonicalHash(-1n)).to.equal(0xffff_ffff_ffff_ffffn); // a signed int64 keeps its bits
  });

  it('skips unknown event types and rejects malformed payloads with a reason', () => {
    const d = decode([0, [['FutureEvent', 1], ['BlockStored', [1]]]]);
    expect(d.ok && d.batch.unknownEvents).to.equal(1);
    expect(decodeVllmBatch(Buffer.from([0x93, 0x01]))).to.include({ ok: false, reason: 'msgpack' });
    expect(decode('hello')).to.include({ ok: false, reason: 'batch' });
    expect(decode([0, 'x'])).to.include({ ok: false, reason: 'batch' });
    expect(decode([0, [['BlockStored', ['nope']]]])).to.include({ ok: false, reason: 'event' });
    expect(decode([0, [['BlockStored', [1], null, [], 16, null, 42]]])).to.include({ ok: false, reason: 'event' });
    expect(decode([0, [7]])).to.include({ ok: false, reason: 'event' });
  });

  it('parses score hashes: numbers, decimal strings above 2^53, hex', () => {
    expect(parseHashInput(42)).to.equal(42n);
    expect(parseHashInput(BIG.toString())).to.equal(BIG);
    expect(parseHashInput(`0x${BIG.toString(16)}`)).to.equal(BIG);
    expect(parseHashInput('ff'.repeat(24) + BIG.toString(16))).to.equal(BIG);
    expect(parseHashInput('18446744073709551616')).to.equal(undefined); // 2^64
    expect(parseHashInput(2 ** 60)).to.equal(undefined);
    expect(parseHashInput('xyz')).to.equal(undefined);
  });

  it('parses score hashes into (hi, lo) halves exactly as parseHashInput does', () => {
    const halves = (v: unknown): [number, number] | undefined => {
      const out = new Uint32Array(2);
      return parseHashHalves(v, out, 0) ? [out[0]!, out[1]!] : undefined;
    };
    const viaBigInt = (v: unknown): [number, number] | undefined => {
      const h = parseHashInput(v);
      return h === undefined ? undefined : hashHalves(h);
    };
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const input = fc.oneof(
      u64.map((b) => b.toString()),
      u64.map((b) => `0x${b.toString(16)}`),
      u64.map((b) => b.toString(16).padStart(16, '0')),
      fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((b) => b.toString(16)),
      fc.bigInt({ min: 0n, max: 10n ** 21n }).map((b) => b.toString()),
      fc.integer({ min: -10, max: Number.MAX_SAFE_INTEGER }),
      fc.double(),
      fc.string(),
      fc.stringMatching(/^(0x)?[0-9a-fA-F]{0,70}$/),
    );
    fc.assert(fc.property(input, (v) => {
        expect(halves(v)).to.deep.equal(viaBigInt(v));
      }), { numRuns: 2000 });
    for (const v of ['', '0x', '0', '18446744073709551615', '18446744073709551616', '99999999999999999999', '123456789012345678901', 2 ** 53, 2 ** 60, -1, 1.5, null, 'ff'.repeat(32)]) {
      expect(halves(v), String(v)).to.deep.equal(viaBigInt(v));
    }
  });
});

