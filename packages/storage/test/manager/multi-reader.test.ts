import { expect } from 'chai';
import { InvalidArgumentError } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { closeAll, codes, expectPattern, keys, layout, manager, write } from './helpers.js';

// LMCache's multi-reader scenarios (num_kv_readers): several workers read the same prefetched objects.
describe('StorageManager multi-reader prefetch', () => {
  afterEach(closeAll);

  it('takes N locks per key; releasing N at once makes them deletable', () => {
    const sm = manager();
    const ks = write(sm, [0, 1, 2]);
    expect(sm.queryPrefetchStatus(sm.submitPrefetch(ks, layout, { readers: 3 }))).to.equal(3);
    sm.finishReadPrefetched(ks, 3);
    expect(codes(sm.l1.delete(ks))).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('a partial release leaves the rest of the locks held', () => {
    const sm = manager();
    const ks = write(sm, [0, 1]);
    expect(sm.queryPrefetchStatus(sm.submitPrefetch(ks, layout, { readers: 4 }))).to.equal(2);
    sm.finishReadPrefetched(ks, 2);
    expect(codes(sm.l1.delete(ks))).to.deep.equal(['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
    sm.finishReadPrefetched(ks, 2);
    expect(codes(sm.l1.delete(ks))).to.deep.equal(['SUCCESS', 'SUCCESS']);
  });

  it('releases the N locks of hits past a gap (keys 0,1,3,4 present)', () => {
    const sm = manager();
    write(sm, [0, 1, 3, 4]);
    const all = keys([0, 1, 2, 3, 4]);
    expect(sm.queryPrefetchStatus(sm.submitPrefetch(all, layout, { readers: 2 }))).to.equal(2);
    sm.finishReadPrefetched(all.slice(0, 2), 2);
    expect(codes(sm.l1.delete(keys([3, 4])))).to.deep.equal(['SUCCESS', 'SUCCESS']);
    expect(codes(sm.l1.delete(keys([0, 1])))).to.deep.equal(['SUCCESS', 'SUCCESS']);
  });

  it('loads from L2 with N locks per key, each reader releasing its own', async () => {
    const sm = manager({ l2: [new MemoryL2Adapter()] });
    const ks = write(sm, [0, 1, 2]);
    await sm.flush();
    await sm.clear();
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout, { readers: 2 }))).to.equal(3);
    for (let reader = 0; reader < 2; reader++) {
      expectPattern(sm.readPrefetched(ks)!, [0, 1, 2]);
      sm.finishReadPrefetched(ks);
    }
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });

  it('rejects a reader count out of range', () => {
    const sm = manager();
    expect(() => sm.submitPrefetch(keys([0]), layout, { readers: 0 })).to.throw(InvalidArgumentError, 'readers');
    expect(() => sm.submitPrefetch(keys([0]), layout, { readers: 129 })).to.throw(InvalidArgumentError, 'readers');
  });
});
