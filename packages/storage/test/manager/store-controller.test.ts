import { expect } from 'chai';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import { closeAll, keys, manager, write } from './helpers.js';

describe('StoreController (through StorageManager)', () => {
  afterEach(closeAll);

  it('merges queued batches up to storeBatchSize keys per L2 call', async () => {
    const slow = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 1 });
    slow.faults.store.delay(5, 5);
    const sizes: number[] = [];
    const sm = manager({ l2: [slow], storeConcurrency: 1, storeBatchSize: 4 });
    sm.addListener({ onL2KeysStored: (_a, ks) => sizes.push(ks.length) });
    for (let i = 0; i < 9; i++) write(sm, [i]);
    await sm.flush();
    expect(sizes.reduce((a, b) => a + b, 0)).to.equal(9);
    expect(Math.max(...sizes)).to.be.at.most(4);
    expect(sizes.length).to.be.lessThan(9);
  });

  it('holds a read lock on each object while it is being copied, then releases it', async () => {
    const slow = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 2 });
    slow.faults.store.delay(10, 10);
    const sm = manager({ l2: [slow] });
    const ks = write(sm, [0, 1]);
    expect(sm.usage().l1.byState.readLocked).to.equal(2);
    expect(sm.l1.delete(ks).map((r) => r.code)).to.deep.equal(['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
    await sm.flush();
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
  });

  it('releases its locks when every adapter rejects the store', async () => {
    const broken = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 3 });
    broken.faults.store.alwaysFail();
    const sm = manager({ l2: [broken] });
    write(sm, [0, 1, 2]);
    await sm.flush();
    expect(sm.usage().l1.byState.readLocked).to.equal(0);
    expect(sm.l1.contains(keys([0, 1, 2]))).to.deep.equal([true, true, true]);
  });

  it('writes to every adapter', async () => {
    const a = new MemoryL2Adapter({ name: 'a' });
    const b = new MemoryL2Adapter({ name: 'b' });
    const sm = manager({ l2: [a, b] });
    write(sm, [0, 1, 2]);
    await sm.flush();
    expect([a.usage().objects, b.usage().objects]).to.deep.equal([3, 3]);
  });
});
