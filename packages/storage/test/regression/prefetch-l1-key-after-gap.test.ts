import { expect } from 'chai';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { closeAll, expectPattern, keys, layout, manager, write } from '../manager/helpers.js';

// Found by the model-based test (fast-check seed 1030293795): write 0, clear L1, write 8, prefetch
// [0, 8] answered 1. Key 8 is past the L1 gap but in L1; the L2 phase tried to reserve it anew,
// which L1 refuses for a present key, and the prefix stopped there.
describe('regression: a prefix key past the L1 gap that L1 holds', () => {
  afterEach(closeAll);

  it('is read-locked from L1, not reloaded, and counts as an L1 hit', async () => {
    const l2 = new MemoryL2Adapter();
    const sm = manager({ l2: [l2] });
    const hits: [number, number][] = [];
    sm.addListener({ onSmPrefetchSubmitted: (_k, l1, l2h) => hits.push([l1, l2h]) });
    write(sm, [0]);
    await sm.flush();
    await sm.clear();
    write(sm, [8]);
    await sm.flush();
    const ks = keys([0, 8]);
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(2);
    expect(hits).to.deep.equal([[1, 1]]);
    expectPattern(sm.readPrefetched(ks)!, [0, 8]);
    sm.finishReadPrefetched(ks);
    for (const k of ks) expect(l2.pinsOf(k)).to.equal(0);
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });
});
