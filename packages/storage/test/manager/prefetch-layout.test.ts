import { expect } from 'chai';
import { MemoryLayout, type ObjectKey } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import type { StorageManager } from '../../src/manager/storage-manager.js';
import { closeAll, expectPattern, keys, KIB, layout, manager, pattern, write } from './helpers.js';

// Same byte size as `layout`, other shapes/dtypes: a size check alone would take it for a match.
const other = new MemoryLayout([[KIB / 2]], ['float16']);

function writeWith(sm: StorageManager, indices: readonly number[], l: MemoryLayout): ObjectKey[] {
  const ks = keys(indices);
  sm.reserveWrite(ks, l).forEach((o, i) => o!.data.set(pattern(indices[i]!)));
  expect(sm.finishWrite(ks)).to.deep.equal(ks.map(() => true));
  return ks;
}

function readLocks(sm: StorageManager, k: ObjectKey): number {
  return sm.l1.inspect(k)?.readLocks ?? 0;
}

describe('prefetch: an L1 object with another layout', () => {
  afterEach(closeAll);

  it('ends the L1 prefix there and is left unlocked', async () => {
    const sm = manager();
    write(sm, [0]);
    writeWith(sm, [1], other);
    write(sm, [2]);
    const ks = keys([0, 1, 2]);
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(1);
    expect(readLocks(sm, ks[1]!)).to.equal(0);
    expect(readLocks(sm, ks[2]!)).to.equal(0);
    expect(sm.readPrefetched(ks.slice(1, 2))).to.equal(undefined);
    expectPattern(sm.readPrefetched(ks.slice(0, 1))!, [0]);
    sm.finishReadPrefetched(ks.slice(0, 1));
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });

  it('as the first key: a zero prefix, no L2 lookup', async () => {
    const l2 = new MemoryL2Adapter();
    const sm = manager({ l2: [l2] });
    writeWith(sm, [0], other);
    write(sm, [1]);
    await sm.flush();
    expect(await sm.waitPrefetch(sm.submitPrefetch(keys([0, 1]), layout))).to.equal(0);
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });

  it('ends the prefix in the L2 phase too (the L2 part before it is loaded)', async () => {
    const l2 = new MemoryL2Adapter();
    const sm = manager({ l2: [l2] });
    write(sm, [0]);
    await sm.flush();
    await sm.clear(); // key 0 only in L2 now
    writeWith(sm, [1], other);
    write(sm, [2]);
    await sm.flush();
    const ks = keys([0, 1, 2]);
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(1);
    expect(readLocks(sm, ks[1]!)).to.equal(0);
    expect(readLocks(sm, ks[2]!)).to.equal(0);
    expectPattern(sm.readPrefetched(ks.slice(0, 1))!, [0]);
    sm.finishReadPrefetched(ks.slice(0, 1));
    for (const k of ks) expect(l2.pinsOf(k)).to.equal(0);
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });

  it('readPrefetched(keys, layout) refuses objects of another layout and releases the locks', async () => {
    const sm = manager();
    const ks = write(sm, [0, 1]);
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(2);
    expect(sm.readPrefetched(ks, other)).to.equal(undefined);
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
    expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(2);
    expectPattern(sm.readPrefetched(ks, layout)!, [0, 1]);
    sm.finishReadPrefetched(ks);
  });
});
