import { expect } from 'chai';
import { encodeKey, objectKey } from '@tierkv/core';
import { InferenceWorkload } from '../../src/demo/workload.js';
import { fillChunk, makeChunk, verifyChunk } from '../../src/demo/chunk-data.js';

describe('InferenceWorkload', () => {
  const options = { seed: 7, chunkTokens: 16, sessionsPerClient: 4, systemPrompts: 2, maxTurns: 3 };

  it('is reproducible from the seed', () => {
    const a = new InferenceWorkload(0, options);
    const b = new InferenceWorkload(0, options);
    for (let i = 0; i < 20; i++) expect(a.next().keys.map(encodeKey)).to.deep.equal(b.next().keys.map(encodeKey));
  });

  it('a session\'s next turn extends its previous prompt (shared prefix grows)', () => {
    const w = new InferenceWorkload(0, { ...options, sessionsPerClient: 1, maxTurns: 5 });
    const first = w.next();
    const second = w.next();
    expect(second.turn).to.equal(2);
    expect(second.keys.length).to.be.greaterThan(first.keys.length);
    expect(second.keys.slice(0, first.keys.length).map(encodeKey)).to.deep.equal(first.keys.map(encodeKey));
    expect(Array.from(second.tokens.subarray(0, first.tokens.length))).to.deep.equal(Array.from(first.tokens));
  });

  it('clients share system prompts but not conversations', () => {
    const a = new InferenceWorkload(0, { ...options, systemPrompts: 1 });
    const b = new InferenceWorkload(1, { ...options, systemPrompts: 1 });
    const ra = a.next();
    const rb = b.next();
    expect(ra.systemChunks).to.equal(rb.systemChunks);
    expect(ra.keys.slice(0, ra.systemChunks).map(encodeKey)).to.deep.equal(rb.keys.slice(0, rb.systemChunks).map(encodeKey));
    expect(encodeKey(ra.keys[ra.keys.length - 1]!)).to.not.equal(encodeKey(rb.keys[rb.keys.length - 1]!));
  });

  it('a session starts a new conversation after maxTurns', () => {
    const w = new InferenceWorkload(0, { ...options, sessionsPerClient: 1, maxTurns: 2 });
    w.next();
    const second = w.next();
    const third = w.next();
    expect(third.turn).to.equal(1);
    expect(third.keys.length).to.be.lessThan(second.keys.length);
  });

  it('every prompt is whole chunks, keys are one per chunk', () => {
    const w = new InferenceWorkload(3, options);
    for (let i = 0; i < 30; i++) {
      const r = w.next();
      expect(r.tokens.length % 16).to.equal(0);
      expect(r.keys.length).to.equal(r.tokens.length / 16);
      expect(r.keys[0]!.modelName).to.equal('tierkv-demo');
    }
  });

  it('skew makes low-numbered sessions hotter', () => {
    const w = new InferenceWorkload(0, { ...options, sessionsPerClient: 16, skew: 1.2, maxTurns: 2 });
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 2000; i++) counts[w.next().session]!++;
    expect(counts[0]!).to.be.greaterThan(counts[15]! * 3);
  });
});

describe('chunk data', () => {
  const key = objectKey('0123456789abcdef', 'm');
  const other = objectKey('fedcba9876543210', 'm');

  it('is the chunk hash repeated, and verifies byte for byte', () => {
    const data = makeChunk(key, 1024);
    expect(data.subarray(0, 8).toString('hex')).to.equal('0123456789abcdef');
    const scratch = Buffer.alloc(4096);
    expect(verifyChunk(data, key, scratch)).to.equal(true);
    expect(verifyChunk(data, other, scratch)).to.equal(false);
    data[777] ^= 1;
    expect(verifyChunk(data, key, scratch)).to.equal(false);
  });

  it('fills a view in place', () => {
    const arena = new Uint8Array(64);
    fillChunk(arena.subarray(16, 48), key);
    expect(arena[15]).to.equal(0);
    expect(arena[16]).to.equal(0x01);
    expect(arena[48]).to.equal(0);
  });
});
