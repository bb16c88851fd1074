import { expect } from 'chai';
import { LruPolicy } from '../../src/eviction/lru-policy.js';
import type { SlotId } from '../../src/eviction/eviction-policy.js';

const s = (n: number) => n as SlotId;

describe('LruPolicy', () => {
  it('evicts least recently inserted or accessed first', () => {
    const p = new LruPolicy(4);
    [0, 1, 2, 3].forEach((n) => p.onInsert(s(n)));
    p.onAccess(s(0));
    p.onAccess(s(2));
    expect([...p.order()]).to.deep.equal([1, 3, 0, 2]);
    expect(p.coldest()).to.equal(1);
    p.onRemove(s(1));
    expect(p.coldest()).to.equal(3);
    expect(p.size).to.equal(3);
  });

  it('passes over the slots `evictable` refuses, moving them to the hot end; -1 when it refuses every one', () => {
    const p = new LruPolicy(4);
    [0, 1, 2, 3].forEach((n) => p.onInsert(s(n)));
    const locked = new Set([0, 1]);
    const evictable = (slot: SlotId) => !locked.has(slot);
    expect(p.coldest(evictable)).to.equal(2);
    expect([...p.order()]).to.deep.equal([2, 3, 0, 1]);
    locked.add(2).add(3);
    expect(p.coldest(evictable)).to.equal(-1);
    expect(p.size).to.equal(4);
    locked.delete(3);
    expect(p.coldest(evictable)).to.equal(3);
  });

  it('re-inserting moves to the hot end; removing an absent slot is a no-op', () => {
    const p = new LruPolicy(2);
    p.onInsert(s(0));
    p.onInsert(s(1));
    p.onInsert(s(0));
    expect([...p.order()]).to.deep.equal([1, 0]);
    p.resize(8);
    p.onRemove(s(7));
    p.onAccess(s(7));
    expect(p.size).to.equal(2);
    expect(p.has(s(7))).to.equal(false);
  });

  it('grows, keeps its links, and resets', () => {
    const p = new LruPolicy(2);
    p.onInsert(s(1));
    p.onInsert(s(0));
    p.resize(1000);
    p.onInsert(s(999));
    expect([...p.order()]).to.deep.equal([1, 0, 999]);
    p.reset();
    expect(p.size).to.equal(0);
    expect(p.coldest()).to.equal(-1);
  });
});
