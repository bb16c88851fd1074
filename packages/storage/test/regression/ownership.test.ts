import { expect } from 'chai';
import { MemoryLayout } from '@tierkv/core';
import { FakeClock } from '../l1/helpers.js';
import { KIB, closeAll, expectPattern, key, keys, layout, manager, pattern, write } from '../manager/helpers.js';
import { ControlledL2, Gate } from './helpers.js';

/** Issue 10's numbered items: each test failed on 6ed5476. */
describe('regression: ownership (issue 10)', () => {
  afterEach(closeAll);

  it('1 foreign finish: a writer cannot publish the block a prefetch is loading from L2', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2] });
    const [k] = write(sm, [1]);
    await sm.flush();
    sm.l1.delete([k!]);
    l2.loadGate = new Gate();
    const lease = sm.prefetch([k!], layout);
    await l2.loadGate.reached; // the prefetch reserved K in L1 and is loading it
    expect(sm.reserveWrite([k!], layout)).to.deep.equal([undefined]);
    expect(sm.finishWrite([k!])).to.deep.equal([false]);
    expect(sm.l1.inspect(k!)!.state).to.equal('write_locked');
    const storesBefore = l2.stores;
    l2.loadGate.open();
    expect(await lease.ready).to.equal(1);
    expectPattern(lease.objects(), [1]);
    lease.release();
    await sm.flush();
    expect(l2.stores, 'nothing written through over L2’s good copy').to.equal(storesBefore);
  });

  it('2 expired prefetch locks: readPrefetched never returns the bytes of the key that reused the block', async () => {
    const clock = new FakeClock();
    const sm = manager({ l1: { capacityBytes: 4 * KIB, now: clock.now, readLockTtlMs: 100 } as never });
    const [k] = write(sm, [1]);
    expect(sm.queryPrefetchStatus(sm.submitPrefetch([k!], layout))).to.equal(1);
    clock.advance(101);
    sm.l1.sweepExpiredLocks();
    sm.l1.delete([k!]);
    write(sm, [2, 3, 4, 5]); // fills L1: one of them reuses K's block
    const got = sm.readPrefetched([k!]);
    expect(got).to.equal(undefined);
  });

  it('2 expired prefetch locks: a late finishReadPrefetched keeps the second reader’s fresh lock', async () => {
    const clock = new FakeClock();
    const sm = manager({ l1: { capacityBytes: 16 * KIB, now: clock.now, readLockTtlMs: 100 } as never });
    const [k] = write(sm, [1]);
    sm.submitPrefetch([k!], layout); // reader A
    clock.advance(101);
    sm.l1.sweepExpiredLocks();
    const b = sm.submitPrefetch([k!], layout); // reader B, a fresh lock
    expect(sm.queryPrefetchStatus(b)).to.equal(1);
    sm.finishReadPrefetched([k!]); // A, late
    expect(sm.l1.inspect(k!)).to.include({ state: 'read_locked', readLocks: 1 });
    expectPattern(sm.readPrefetched([k!])!, [1]);
    sm.finishReadPrefetched([k!]); // B
    expect(sm.l1.inspect(k!)).to.include({ state: 'ready', readLocks: 0 });
  });

  it('2 expired prefetch locks: an owned lease whose lock expired hands out nothing and releases nobody else’s lock', async () => {
    const clock = new FakeClock();
    const sm = manager({ l1: { capacityBytes: 16 * KIB, now: clock.now, readLockTtlMs: 100 } as never });
    const [k] = write(sm, [1]);
    const a = sm.prefetch([k!], layout);
    expect(await a.ready).to.equal(1);
    clock.advance(101);
    sm.l1.sweepExpiredLocks();
    const b = sm.prefetch([k!], layout);
    expect(await b.ready).to.equal(1);
    expect(a.objects()).to.deep.equal([]);
    a.release();
    expect(sm.l1.inspect(k!)).to.include({ readLocks: 1 });
    expectPattern(b.objects(), [1]);
    b.release();
    b.release();
    expect(sm.l1.inspect(k!)).to.include({ state: 'ready', readLocks: 0 });
  });

  it('3 swallowed L2 delete: a key whose L2 delete failed is reported failed, not announced, and never comes back', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2] });
    const [k] = write(sm, [1]);
    await sm.flush();
    const announced: string[] = [];
    sm.addListener({ onSmKeysDeleted: (ks) => announced.push(...ks.map((x) => x.chunkHash)) });
    l2.failDelete = true;
    expect(await sm.delete([k!])).to.deep.equal(['failed']);
    expect(announced).to.deep.equal([]);
    expect(await sm.lookup([k!])).to.deep.equal(['miss']);
    const lease = sm.prefetch([k!], layout);
    expect(await lease.ready, 'the deleted data is not loaded from the leftover L2 copy').to.equal(0);
    l2.failDelete = false;
    expect(await sm.delete([k!])).to.deep.equal(['absent']);
    expect(l2.inner.usage().objects, 'the retried delete removed the leftover').to.equal(0);
  });

  it('4 layout from L2: an object of another layout is a miss from L2 as from L1', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2] });
    const [k] = write(sm, [1]); // MemoryLayout.bytes(1 KiB)
    await sm.flush();
    sm.l1.delete([k!]);
    const other = new MemoryLayout([[2, 256]], ['float16']); // also 1 KiB
    const lease = sm.prefetch([k!], other);
    expect(await lease.ready).to.equal(0);
    lease.release();
    const same = sm.prefetch([k!], layout);
    expect(await same.ready, 'the L2 copy is still there for its own layout').to.equal(1);
    expectPattern(same.objects(), [1]);
    same.release();
  });

  it('5 delete waits for everyone: deleting a key waits only for that key’s write-through', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2], storeConcurrency: 4 });
    l2.storeGate = new Gate();
    const slow = key(1);
    l2.holdStore = (k) => k.chunkHash === slow.chunkHash;
    write(sm, [1]); // its write-through waits at the gate
    await l2.storeGate.reached;
    const [k2] = write(sm, [2]);
    expect(await sm.delete([k2!])).to.deep.equal(['deleted']);
    expect(l2.storeGate.isOpen, 'delete resolved while another key’s write-through still waits').to.equal(false);
    l2.storeGate.open();
    await sm.flush();
  });

  it('9 over-counting: reserveWrite of 4 keys with 2 out of memory counts 2 failures in one batch', async () => {
    const sm = manager({ l1: { capacityBytes: 2 * KIB, alignBytes: 256 } as never });
    const objs = sm.reserveWrite(keys([1, 2, 3, 4]), layout);
    expect(objs.map((o) => o !== undefined)).to.deep.equal([true, true, false, false]);
    const u = sm.l1.usage();
    expect(u.byState.writeLocked).to.equal(2);
    // L1's own counts: one reserve_write call, two allocation failures.
    const { createTestMeterProvider, valueOf } = await import('@tierkv/test-utils');
    const p = createTestMeterProvider();
    const counted = manager({ l1: { capacityBytes: 2 * KIB, alignBytes: 256 } as never, meterProvider: p.meterProvider });
    counted.reserveWrite(keys([1, 2, 3, 4]), layout);
    const rm = await p.collect();
    expect(valueOf(rm, 'tierkv.l1.allocation.failures')).to.equal(2);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'reserve_write' })).to.equal(1);
    await p.shutdown();
  });

  it('10 prefix cut by eviction: a key evicted from L1 during the L2 lookup is found in L2', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2] });
    const ks = write(sm, [0, 1, 2, 3, 4]);
    await sm.flush();
    sm.l1.delete([ks[0]!, ks[2]!, ks[3]!, ks[4]!]); // keys 0–4 in L2, key 1 also in L1
    l2.lookupGate = new Gate();
    const lease = sm.prefetch(ks, layout);
    await l2.lookupGate.reached;
    sm.l1.delete([ks[1]!]); // evicted while the L2 lookup is in flight
    l2.lookupGate.open();
    l2.lookupGate = undefined;
    expect(await lease.ready).to.equal(5);
    expectPattern(lease.objects(), [0, 1, 2, 3, 4]);
    lease.release();
  });

  it('11 temporary objects in L2: a temporary object is never written through', async () => {
    const l2 = new ControlledL2();
    const sm = manager({ l2: [l2] });
    const r = sm.reserve([key(7)], layout, { temporary: true });
    r.objects[0]!.data.set(pattern(7));
    expect(r.commit()).to.deep.equal([true]);
    const k = [key(8)];
    sm.reserveWrite(k, layout, 'new', { temporary: true })[0]!.data.set(pattern(8));
    expect(sm.finishWrite(k)).to.deep.equal([true]);
    await sm.flush();
    expect(l2.stores).to.equal(0);
    expect(sm.l1.contains([key(7), key(8)])).to.deep.equal([true, true]);
  });

  it('a reservation commits only itself, once; an expired one reissued to another writer is refused', () => {
    const clock = new FakeClock();
    const sm = manager({ l1: { capacityBytes: 16 * KIB, now: clock.now, writeLockTtlMs: 100 } as never });
    const first = sm.reserve([key(1)], layout);
    clock.advance(101);
    const second = sm.reserve([key(1)], layout);
    expect(second.reserved).to.equal(1);
    second.objects[0]!.data.set(pattern(1));
    expect(first.commit()).to.deep.equal([false]);
    expect(sm.l1.inspect(key(1))!.state).to.equal('write_locked');
    expect(second.commit()).to.deep.equal([true]);
    expect(second.commit()).to.deep.equal([false]);
    expect(() => sm.reserve([key(2)], MemoryLayout.bytes(KIB)).abort()).to.not.throw();
  });
});
