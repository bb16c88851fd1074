import { expect } from 'chai';
import { objectKey } from '@tierkv/core';
import { EventBatcher } from '../../src/worker-client/event-batcher.js';
import { KeyTracker } from '../../src/worker-client/key-tracker.js';
import { splitSnapshot } from '../../src/worker-client/full-sync-sender.js';
import { hashOf } from '../helpers/fake-storage.js';

describe('EventBatcher and KeyTracker', () => {
  const tracker = new KeyTracker();
  const pA = tracker.partition('l1', objectKey(hashOf(1), 'a'));
  const pB = tracker.partition('l1', objectKey(hashOf(1), 'b'));
  const pL2 = tracker.partition('l2:fs', objectKey(hashOf(1), 'a'));

  it('numbers events per location in drain order, one message per partition run', () => {
    const b = new EventBatcher('i', 0, 100);
    b.add(pA, 0, hashOf(1));
    b.add(pA, 1, hashOf(2));
    b.add(pB, 0, hashOf(3));
    b.add(pL2, 0, hashOf(4));
    const msgs = b.drain();
    expect(msgs.map((m) => [m.location, m.scope.modelName, m.seq, m.ops.length])).to.deep.equal([
      ['l1', 'a', 0, 2],
      ['l1', 'b', 2, 1],
      ['l2:fs', 'a', 0, 1],
    ]);
    expect(b.seqs()).to.deep.equal({ l1: 3, 'l2:fs': 1 });
  });

  it('holds events while frozen and burns a number for each event it must drop', () => {
    const b = new EventBatcher('i', 0, 2);
    b.frozen = true;
    b.add(pA, 0, hashOf(1));
    b.add(pA, 0, hashOf(2));
    b.add(pA, 0, hashOf(3)); // over the limit
    expect(b.drain()).to.deep.equal([]);
    expect(b.seqs()).to.deep.equal({ l1: 1 });
    b.frozen = false;
    const [m] = b.drain();
    expect(m).to.include({ seq: 1 });
    expect(b.overflowed).to.equal(1);
  });

  it('tracks held keys idempotently and splits a snapshot into bounded batches', () => {
    const t = new KeyTracker();
    const p = t.partition('l1', objectKey(hashOf(1), 'a'));
    expect(t.admit(p, hashOf(1))).to.equal(true);
    expect(t.admit(p, hashOf(1))).to.equal(false);
    expect(t.evict(p, hashOf(2))).to.equal(false);
    for (let i = 2; i <= 10; i++) t.admit(p, hashOf(i));
    const batches = splitSnapshot(t.snapshot(), 4);
    expect(batches.map((b) => b.reduce((n, e) => n + e.hashes.length / 8, 0))).to.deep.equal([4, 4, 2]);
  });
});
