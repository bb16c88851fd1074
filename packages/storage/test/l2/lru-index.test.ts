import { expect } from 'chai';
import type { EncodedKey } from '@tierkv/core';
import { LruIndex } from '../../src/l2/lru-index.js';

const k = (s: string) => s as EncodedKey;

describe('LruIndex pins', () => {
  it('pin touches and pins present keys only; unpin never goes below zero', () => {
    const index = new LruIndex<{ size: number; pins: number }>();
    index.set(k('a'), { size: 10, pins: 0 });
    index.set(k('b'), { size: 10, pins: 0 });
    expect(index.pin(k('a'))).to.equal(true);
    expect(index.pin(k('zz'))).to.equal(false);
    expect([...index.keys()], 'a became the hottest').to.deep.equal(['b', 'a']);
    expect(index.pinsOf(k('a'))).to.equal(1);
    index.unpin(k('a'));
    index.unpin(k('a'));
    index.unpin(k('zz'));
    expect(index.pinsOf(k('a'))).to.equal(0);
    expect(index.pinsOf(k('zz'))).to.equal(0);
  });

  it('deleteUnpinned and clearUnpinned keep pinned entries and their bytes', () => {
    const index = new LruIndex<{ size: number; pins: number }>();
    for (const [key, size] of [['a', 10], ['b', 20], ['c', 30]] as const) index.set(k(key), { size, pins: 0 });
    index.pin(k('b'));
    expect(index.deleteUnpinned(k('b'))).to.equal(undefined);
    expect(index.deleteUnpinned(k('zz'))).to.equal(undefined);
    expect(index.deleteUnpinned(k('a'))?.size).to.equal(10);
    expect(index.clearUnpinned().map(([key]) => key)).to.deep.equal(['c']);
    expect([...index.keys()]).to.deep.equal(['b']);
    expect(index.usedBytes).to.equal(20);
  });
});
