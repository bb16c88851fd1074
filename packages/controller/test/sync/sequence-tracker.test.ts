import { expect } from 'chai';
import { SequenceTracker, checkSequence } from '../../src/sync/sequence-tracker.js';

describe('sequence checking', () => {
  it('classifies in-order, gapped, duplicate and overlapping batches', () => {
    expect(checkSequence(5, 5, 3)).to.deep.equal({ skip: 0, gap: false, next: 8 });
    expect(checkSequence(5, 7, 3)).to.deep.equal({ skip: 0, gap: true, next: 10 });
    expect(checkSequence(5, 2, 3)).to.deep.equal({ skip: 3, gap: false, next: 5 });
    expect(checkSequence(5, 3, 4)).to.deep.equal({ skip: 2, gap: false, next: 7 });
  });

  it('tracks locations apart, starting at 0, and reports lagging ones', () => {
    const t = new SequenceTracker();
    expect(t.accept('l1', 1, 1).gap).to.equal(true); // event 0 of l1 never came
    expect(t.accept('l2', 0, 2).gap).to.equal(false);
    expect(t.behind({ l1: 2, l2: 3, l3: 0 })).to.deep.equal(['l2']);
    t.reset({ l1: 10 });
    expect(t.expected('l1')).to.equal(10);
    expect(t.expected('l2')).to.equal(0);
  });
});
