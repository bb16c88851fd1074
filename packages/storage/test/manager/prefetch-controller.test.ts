import { expect } from 'chai';
import type { ObjectKey } from '@tierkv/core';
import type { L2Adapter } from '../../src/l2/l2-adapter.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { closeAll, expectPattern, keys, layout, manager, write } from './helpers.js';

/** Counts keys inside load() at once; each load takes a few milliseconds. */
class SlowLoads implements L2Adapter {
  readonly name = 'slow';
  inFlight = 0;
  maxInFlight = 0;
  loadCalls = 0;
  loadedKeys = 0;
  constructor(readonly inner: MemoryL2Adapter) {}
  store = (i: Parameters<L2Adapter['store']>[0]) => this.inner.store(i);
  lookupAndLock = (k: readonly ObjectKey[]) => this.inner.lookupAndLock(k);
  async load(k: readonly ObjectKey[], t: readonly Uint8Array[]): Promise<boolean[]> {
    this.loadCalls++;
    this.loadedKeys += k.length;
    this.inFlight += k.length;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 3));
    try {
      return await this.inner.load(k, t);
    } finally {
      this.inFlight -= k.length;
    }
  }
  unlock = (k: readonly ObjectKey[]) => this.inner.unlock(k);
  delete = (k: readonly ObjectKey[]) => this.inner.delete(k);
  usage = () => this.inner.usage();
  close = () => this.inner.close();
}

describe('PrefetchController (through StorageManager)', () => {
  afterEach(closeAll);

  it('keeps at most maxInFlight keys loading at once, across prefetches', async () => {
    const slow = new SlowLoads(new MemoryL2Adapter());
    const sm = manager({ l2: [slow], maxInFlight: 3, loadBatchSize: 2 });
    const ids = [...Array(24).keys()];
    write(sm, ids);
    await sm.flush();
    await sm.clear();
    const handles = [0, 8, 16].map((s) => sm.submitPrefetch(keys(ids.slice(s, s + 8)), layout));
    const counts = await Promise.all(handles.map((h) => sm.waitPrefetch(h)));
    expect(counts).to.deep.equal([8, 8, 8]);
    expect(slow.maxInFlight).to.be.at.most(3);
    expect(slow.maxInFlight).to.be.greaterThan(1);
    expect(slow.loadCalls).to.equal(12); // 24 keys in calls of at most 2
    for (const s of [0, 8, 16]) {
      const ks = keys(ids.slice(s, s + 8));
      expectPattern(sm.readPrefetched(ks)!, ids.slice(s, s + 8));
      sm.finishReadPrefetched(ks);
    }
  });

  it('concurrent prefetches of the same keys share one load and all get the full prefix', async () => {
    const slow = new SlowLoads(new MemoryL2Adapter());
    const sm = manager({ l2: [slow] });
    const ids = [0, 1, 2, 3, 4, 5];
    write(sm, ids);
    await sm.flush();
    await sm.clear();
    const ks = keys(ids);
    const handles = [sm.submitPrefetch(ks, layout), sm.submitPrefetch(ks, layout), sm.submitPrefetch(ks.slice(0, 3), layout)];
    expect(await Promise.all(handles.map((h) => sm.waitPrefetch(h)))).to.deep.equal([6, 6, 3]);
    expect(slow.loadedKeys).to.equal(6);
    for (const k of ks) expect(slow.inner.pinsOf(k)).to.equal(0);
    expectPattern(sm.readPrefetched(ks)!, ids);
    sm.finishReadPrefetched(ks, 2);
    sm.finishReadPrefetched(ks.slice(0, 3));
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
    expect(sm.l1.memcheck().ok).to.equal(true);
  });

  it('reports active prefetches while loads are pending', async () => {
    const slow = new SlowLoads(new MemoryL2Adapter());
    const sm = manager({ l2: [slow] });
    write(sm, [0, 1]);
    await sm.flush();
    await sm.clear();
    const h = sm.submitPrefetch(keys([0, 1]), layout);
    expect(sm.usage().activePrefetches).to.equal(1);
    expect(sm.queryPrefetchStatus(h)).to.equal(undefined);
    await sm.waitPrefetch(h);
    expect(sm.usage().activePrefetches).to.equal(0);
    sm.finishReadPrefetched(keys([0, 1]));
  });

  it('ends the prefix where L1 cannot reserve memory, and releases the rest', async () => {
    const l2 = new MemoryL2Adapter();
    const sm = manager({ l2: [l2], l1: { capacityBytes: 4 * 1024 } as never });
    write(sm, [0, 1, 2, 3]);
    await sm.flush();
    for (let i = 4; i < 8; i += 4) {
      write(sm, [i, i + 1, i + 2, i + 3]);
      await sm.flush();
    }
    // Pin two objects in L1 so only two slots are free for the prefetch.
    const pinned = sm.submitPrefetch(keys([4, 5]), layout);
    expect(sm.queryPrefetchStatus(pinned)).to.equal(2);
    const h = sm.submitPrefetch(keys([0, 1, 2, 3]), layout);
    const n = await sm.waitPrefetch(h);
    expect(n).to.be.within(1, 3);
    for (const k of keys([0, 1, 2, 3])) expect(l2.pinsOf(k)).to.equal(0);
    sm.finishReadPrefetched(keys([0, 1, 2, 3]).slice(0, n));
    sm.finishReadPrefetched(keys([4, 5]));
    expect(sm.l1.memcheck().ok).to.equal(true);
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
    expect(sm.usage().l1.byState.writeLocked).to.equal(0);
  });
});
