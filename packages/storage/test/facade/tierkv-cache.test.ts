import { expect } from 'chai';
import { InvalidArgumentError, MemoryLayout } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { TierkvCache } from '../../src/facade/tierkv-cache.js';
import { closeAll, manager } from '../manager/helpers.js';

const layout = MemoryLayout.bytes(4096);
const tokens = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const chunk = (b: number) => new Uint8Array(4096).fill(b);

describe('TierkvCache (the facade)', () => {
  afterEach(closeAll);
  const make = (capacityBytes = 1024 * 1024) => {
    const storage = manager({ l1: { capacityBytes } as never, l2: [new MemoryL2Adapter()], chunkTokens: 16 });
    return new TierkvCache({ storage, layout, scope: { modelName: 'facade' } });
  };

  it('puts one chunk per full chunk of tokens and gets the longest cached prefix back, copied', async () => {
    const cache = make();
    const put = cache.put(tokens(40), [chunk(1), chunk(2)]); // 40 tokens = 2 full chunks of 16
    expect(put).to.include({ storedCount: 2 });
    expect(put.stored).to.deep.equal([true, true]);
    expect(cache.put(tokens(40), [chunk(9), chunk(9)]).storedCount, 'cached chunks are left as they are').to.equal(0);
    const got = await cache.get(tokens(64)); // 4 chunks asked, the first 2 cached
    expect(got.keys).to.have.length(4);
    expect(got.chunks.map((c) => c[0])).to.deep.equal([1, 2]);
    got.chunks[0]!.fill(7); // a copy: the cache is unchanged
    expect((await cache.get(tokens(16))).chunks[0]![0]).to.equal(1);
  });

  it('lends the prefix in place with a lease that releases its locks', async () => {
    const cache = make();
    cache.put(tokens(16), [chunk(5)]);
    await cache.storage.flush(); // the write-through's own read lock is gone
    const lease = await cache.getLease(tokens(16));
    expect(lease.chunks.map((c) => c[0])).to.deep.equal([5]);
    expect(cache.storage.l1.usage().byState.readLocked).to.equal(1);
    lease.release();
    lease.release();
    expect(cache.storage.l1.usage().byState.readLocked).to.equal(0);
  });

  it('stores what fits in order when L1 is short of room', () => {
    const cache = make(64 * 1024); // 16 chunks of 4 KiB at most
    const n = 24;
    const put = cache.put(tokens(16 * n), Array.from({ length: n }, (_, i) => chunk(i)));
    expect(put.storedCount).to.be.greaterThan(0).and.lessThan(n);
    expect(put.stored.indexOf(false)).to.equal(put.storedCount); // a prefix
  });

  it('refuses bad input with typed errors naming the argument', () => {
    const cache = make();
    expect(() => cache.put(tokens(32), [chunk(1)])).to.throw(InvalidArgumentError, /chunks.*1 chunks for 2/);
    expect(() => cache.put(tokens(16), [new Uint8Array(10)])).to.throw(InvalidArgumentError, /chunks\[0\].*4096 bytes/);
    expect(() => cache.put(null as never, [])).to.throw(InvalidArgumentError, /tokens/);
    expect(() => new TierkvCache({ storage: cache.storage, layout, scope: { modelName: 'm' }, chunkSize: 4 } as never)).to.throw(InvalidArgumentError, /chunkSize/);
    expect(() => new TierkvCache({ storage: cache.storage, layout, scope: { modelName: '' } })).to.throw(InvalidArgumentError, /scope/);
  });
});
