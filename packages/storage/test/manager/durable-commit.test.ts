import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, encodeKey, InvalidArgumentError } from '@tierkv/core';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { StorageManager } from '../../src/manager/storage-manager.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import { closeAll, expectPattern, keys, KIB, layout, manager, pattern, SlowL2 } from './helpers.js';

/** Reserves `indices` through a WriteReservation and fills each with pattern(n). */
function reserveFilled(sm: StorageManager, indices: readonly number[]) {
  const r = sm.reserve(keys(indices), layout);
  r.objects.forEach((o, i) => o?.data.set(pattern(indices[i]!)));
  return r;
}

describe('durable commit (acknowledged = on L2)', () => {
  afterEach(closeAll);

  it('resolves durable only after every L2 tier stored the keys; the bytes are loadable by a fresh manager on the same directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tierkv-durable-'));
    try {
      const fs = await FsL2Adapter.open({ path: dir, fsync: true });
      const slow = new SlowL2(0, true);
      const sm = manager({ l2: [fs, slow] });
      const pending = reserveFilled(sm, [1, 2]).commit({ durable: true });
      let settled = false;
      void pending.then(() => (settled = true));
      // The gated tier has not answered: nothing may be reported yet.
      await new Promise((r) => setImmediate(r));
      expect(settled).to.equal(false);
      expect(sm.usage().storeQueueKeys).to.equal(2);
      slow.open();
      expect(await pending).to.deep.equal(['durable', 'durable']);
      expect(slow.stored.has(encodeKey(keys([1])[0]!))).to.equal(true);
      // No close, no flush: what was reported durable is already on disk for another manager.
      await fs.close();
      const fresh = new StorageManager({ l1: { capacityBytes: 64 * KIB, lockSweepIntervalMs: 0 }, l2: [await FsL2Adapter.open({ path: dir })] });
      try {
        const lease = fresh.prefetch(keys([1, 2]), layout);
        expect(await lease.ready).to.equal(2);
        expectPattern(lease.objects(), [1, 2]);
        lease.release();
      } finally {
        await fresh.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports l2_failed for keys an L2 tier failed to store (per key and whole batch), and not_stored for keys not reserved', async () => {
    const faulty = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 1 });
    faulty.faults.store.failRate(1);
    const sm = manager({ l2: [new MemoryL2Adapter({ name: 'ok' }), faulty] });
    // Key 3 is already present: a `new` reservation does not get it.
    reserveFilled(sm, [3]).commit();
    await sm.flush();
    expect(await reserveFilled(sm, [1, 3]).commit({ durable: true })).to.deep.equal(['l2_failed', 'not_stored']);
    faulty.faults.store.never().alwaysFail();
    expect(await reserveFilled(sm, [2]).commit({ durable: true })).to.deep.equal(['l2_failed']);
    faulty.faults.store.never();
    expect(await reserveFilled(sm, [4]).commit({ durable: true })).to.deep.equal(['durable']);
    // The failed keys still live in L1: the outcome is about L2 only.
    expect(sm.l1.contains(keys([1, 2]))).to.deep.equal([true, true]);
  });

  it('reports l2_skipped when storeBacklogPolicy skip_l2 dropped the write-through', async () => {
    const slow = new SlowL2(0, true);
    const sm = manager({ l2: [slow], storeBacklogPolicy: 'skip_l2', storeQueueLimit: 1, storeConcurrency: 1, storeBatchSize: 1 });
    const first = reserveFilled(sm, [1]).commit({ durable: true }); // being stored
    const second = reserveFilled(sm, [2]).commit({ durable: true }); // queued: the queue is at its bound
    const third = reserveFilled(sm, [3]).commit({ durable: true }); // dropped
    expect(await third).to.deep.equal(['l2_skipped']);
    slow.open();
    expect(await Promise.all([first, second])).to.deep.equal([['durable'], ['durable']]);
  });

  it('is refused with a ConfigError naming storage.l2 without an L2 tier, leaving the reservation open', async () => {
    const sm = manager();
    const r = reserveFilled(sm, [1]);
    expect(() => r.commit({ durable: true })).to.throw(ConfigError, /storage\.l2/);
    expect(r.state).to.equal('open');
    expect(r.commit()).to.deep.equal([true]);
    sm.reserveWrite(keys([2]), layout);
    expect(() => sm.finishWrite(keys([2]), { durable: true })).to.throw(ConfigError, /storage\.l2/);
    expect(sm.finishWrite(keys([2]))).to.deep.equal([true]);
  });

  it('refuses a temporary reservation and malformed options', async () => {
    const sm = manager({ l2: [new MemoryL2Adapter()] });
    const r = sm.reserve(keys([1]), layout, { temporary: true });
    expect(() => r.commit({ durable: true })).to.throw(InvalidArgumentError, /options\.durable/);
    expect(() => reserveFilled(sm, [2]).commit({ durable: 'yes' } as never)).to.throw(InvalidArgumentError, /options\.durable/);
    r.abort();
  });

  it('the key-based path: finishWrite(keys, { durable: true }) reports per key, not_stored for keys it does not hold', async () => {
    const faulty = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 2 });
    const sm = manager({ l2: [faulty] });
    const objs = sm.reserveWrite(keys([1, 2]), layout);
    objs.forEach((o, i) => o!.data.set(pattern(i + 1)));
    expect(await sm.finishWrite(keys([1, 9]), { durable: true })).to.deep.equal(['durable', 'not_stored']);
    faulty.faults.store.alwaysFail();
    expect(await sm.finishWrite(keys([2]), { durable: true })).to.deep.equal(['l2_failed']);
    expect(sm.usage().storeQueueKeys).to.equal(0);
  });
});
