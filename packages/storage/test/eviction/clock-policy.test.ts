import { expect } from 'chai';
import { ClockPolicy } from '../../src/eviction/clock-policy.js';
import type { SlotId } from '../../src/eviction/eviction-policy.js';

const s = (n: number) => n as SlotId;

describe('ClockPolicy', () => {
  it('evicts in hand order, giving used objects a second chance', () => {
    const p = new ClockPolicy(4);
    [0, 1, 2, 3].forEach((n) => p.onInsert(s(n)));
    p.onAccess(s(0));
    p.onAccess(s(2));
    // The hand passes 0 (clearing its bit) and stops at 1, never used.
    expect(p.coldest()).to.equal(1);
    expect(p.referenced(s(0))).to.equal(false);
    expect(p.referenced(s(2))).to.equal(true);
    p.onRemove(s(1));
    // From 1 on: 2 loses its bit, 3 is next.
    expect(p.coldest()).to.equal(3);
    p.onRemove(s(3));
    // 0 was passed once already: now it goes.
    expect(p.coldest()).to.equal(0);
    expect(p.size).to.equal(2);
  });

  it('when every object was used, the hand clears them all and takes the first it reaches', () => {
    const p = new ClockPolicy(4);
    [0, 1, 2].forEach((n) => {
      p.onInsert(s(n));
      p.onAccess(s(n));
    });
    expect(p.coldest()).to.equal(0);
    expect([0, 1, 2].map((n) => p.referenced(s(n)))).to.deep.equal([false, false, false]);
  });

  it('skips untracked slots; removing or touching an absent slot is a no-op', () => {
    const p = new ClockPolicy(2);
    p.onInsert(s(1));
    p.resize(8);
    p.onInsert(s(7));
    p.onRemove(s(4));
    p.onAccess(s(5));
    expect(p.has(s(5))).to.equal(false);
    expect(p.size).to.equal(2);
    expect(p.coldest()).to.equal(1);
    p.onRemove(s(1));
    expect(p.coldest()).to.equal(7);
    p.onInsert(s(7)); // again: still one object
    expect(p.size).to.equal(1);
  });

  it('passes over the slots `evictable` refuses; -1 when it refuses every one', () => {
    const p = new ClockPolicy(4);
    [0, 1, 2, 3].forEach((n) => p.onInsert(s(n)));
    p.onAccess(s(3));
    const locked = new Set([0, 1]);
    const evictable = (slot: SlotId) => !locked.has(slot);
    expect(p.coldest(evictable)).to.equal(2);
    p.onRemove(s(2));
    // 3 is referenced: the hand clears it, passes 0 and 1 again and comes back to it.
    expect(p.coldest(evictable)).to.equal(3);
    locked.add(3);
    expect(p.coldest(evictable)).to.equal(-1);
    expect(p.size).to.equal(3);
    locked.clear();
    expect(p.coldest(evictable)).to.not.equal(-1);
  });

  it('grows, keeps its bits, and resets', () => {
    const p = new ClockPolicy(2);
    p.onInsert(s(0));
    p.onAccess(s(0));
    p.resize(1000);
    p.onInsert(s(999));
    expect(p.referenced(s(0))).to.equal(true);
    expect(p.coldest()).to.equal(999);
    p.reset();
    expect(p.size).to.equal(0);
    expect(p.coldest()).to.equal(-1);
  });
});
