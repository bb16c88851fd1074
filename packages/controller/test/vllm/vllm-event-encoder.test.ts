import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { InvalidArgumentError } from '@tierkv/core';
import { chunkHashToU64, encodeVllmEventBatch } from '../../src/vllm/vllm-event-encoder.js';

const unpackr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

describe('vLLM KV event encoder', () => {
  const big = (1n << 64n) - 3n; // far above 2^53: a float would round it
  const mid = 0x8000_0000_0000_0001n;

  it('round trips a batch in vLLM\'s array layout, hashes exact as uint64', () => {
    const payload = encodeVllmEventBatch({
      ts: 1700000000.25,
      events: [
        { type: 'BlockStored', blockHashes: [big, mid, 5n], parentBlockHash: null, tokenIds: [], blockSize: 256, loraId: null, medium: 'CPU', loraName: null },
        { type: 'BlockStored', blockHashes: [7n], parentBlockHash: big, tokenIds: [1, 2, 300, 70000], blockSize: 4, loraId: 3, medium: 'DISK', loraName: 'Alice' },
        { type: 'BlockRemoved', blockHashes: [big], medium: 'DISK' },
        { type: 'AllBlocksCleared' },
      ],
      dataParallelRank: null,
    });
    const [ts, events, rank] = unpackr.unpack(payload) as [number, unknown[], number | null];
    expect(ts).to.equal(1700000000.25);
    expect(rank).to.equal(null);
    expect(events).to.deep.equal([
      ['BlockStored', [big, mid, 5n], null, [], 256, null, 'CPU', null, null, null],
      ['BlockStored', [7n], big, [1, 2, 300, 70000], 4, 3, 'DISK', 'Alice', null, null],
      ['BlockRemoved', [big], 'DISK', null],
      ['AllBlocksCleared'],
    ]);
  });

  it('writes every block hash as msgpack uint64 (0xcf), even small ones', () => {
    const payload = encodeVllmEventBatch({ ts: 0, events: [{ type: 'BlockRemoved', blockHashes: [5n], medium: null }], dataParallelRank: 2 });
    // [ts float64, [[tag, [hash], medium, group_idx]], 2]
    const hex = payload.toString('hex');
    expect(hex).to.contain('91cf0000000000000005');
    expect(unpackr.unpack(payload)).to.deep.equal([0, [['BlockRemoved', [5n], null, null]], 2]);
  });

  it('tierkv chunk hashes (16 hex characters) become their 64-bit value', () => {
    expect(chunkHashToU64('ffffffffffffffff')).to.equal((1n << 64n) - 1n);
    expect(chunkHashToU64('00000000000000ff')).to.equal(255n);
    expect(() => chunkHashToU64('xyz')).to.throw(InvalidArgumentError);
    expect(() => chunkHashToU64('1'.repeat(17))).to.throw(InvalidArgumentError);
  });

  it('refuses hashes that are not uint64 bigints', () => {
    for (const h of [-1n, 1n << 64n, 5 as unknown as bigint]) {
      expect(() => encodeVllmEventBatch({ ts: 0, events: [{ type: 'BlockRemoved', blockHashes: [h], medium: null }], dataParallelRank: null })).to.throw(InvalidArgumentError);
    }
  });

  it('long lists and strings use the longer msgpack heads', () => {
    const hashes = Array.from({ length: 70_000 }, (_, i) => BigInt(i) << 40n);
    const tokenIds = Array.from({ length: 20 }, (_, i) => i * 1000);
    const medium = 'M'.repeat(300);
    const payload = encodeVllmEventBatch({ ts: 1, events: [{ type: 'BlockStored', blockHashes: hashes, parentBlockHash: null, tokenIds, blockSize: 16, medium }], dataParallelRank: 65535 });
    const [, events, rank] = unpackr.unpack(payload) as [number, unknown[][], number];
    expect(rank).to.equal(65535);
    expect(events[0]![1]).to.deep.equal(hashes);
    expect(events[0]![3]).to.deep.equal(tokenIds);
    expect(events[0]![6]).to.equal(medium);
  });
});
