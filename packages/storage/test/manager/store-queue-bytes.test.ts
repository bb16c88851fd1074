import { expect } from 'chai';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { resolveStorageManagerOptions } from '../../src/manager/storage-options.js';
import { closeAll, keys, KIB, layout, manager, SlowL2 } from './helpers.js';

describe('store queue byte bound (storeQueueLimitBytes, storeBacklogPolicy)', () => {
  afterEach(closeAll);

  it('defaults to 25% of the L1 capacity and rejects a bad value', () => {
    expect(resolveStorageManagerOptions({ l1: { capacityBytes: 1000 * KIB } }).storeQueueLimitBytes).to.equal(250 * KIB);
    expect(() => resolveStorageManagerOptions({ l1: { capacityBytes: KIB * KIB }, storeQueueLimitBytes: 0 })).to.throw(/storage\.storeQueueLimitBytes/);
  });

  it('by default (reject_writes) a stalled L2 never pins more than the bound: past it reserveWrite refuses new keys, counted, and accepts again once the backlog drains', async () => {
    const tmp = createTestMeterProvider();
    const gated = new SlowL2(0, true);
    try {
      const sm = manager({ l2: [gated], meterProvider: tmp.meterProvider });
      expect(sm.options.storeBacklogPolicy).to.equal('reject_writes');
      const total = 400;
      let accepted = 0;
      for (let i = 0; i < total; i++) {
        const [obj] = sm.reserveWrite(keys([i]), layout);
        if (!obj) {
          expect(sm.writeBackpressure(), `refusal of key ${i}`).to.equal('queue_bytes');
          continue;
        }
        accepted++;
        expect(sm.finishWrite(keys([i]))).to.deep.equal([true]);
      }
      const limit = sm.options.storeQueueLimitBytes;
      expect(limit).to.equal(64 * KIB);
      expect(accepted).to.equal(limit / KIB);
      expect(sm.usage().storeQueueBytes).to.equal(limit);
      expect(sm.usage().l1.objects).to.equal(limit / KIB);
      const rm = await tmp.collect();
      expect(valueOf(rm, 'tierkv.storage.write.rejected_keys', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(total - accepted);
      expect(valueOf(rm, 'tierkv.storage.write.rejected_keys', { 'tierkv.storage.refusal.reason': 'queue_full' })).to.equal(0);
      expect(valueOf(rm, 'tierkv.storage.write.failed_keys')).to.equal(total - accepted);
      expect(valueOf(rm, 'tierkv.storage.store.dropped', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(0);
      gated.open();
      await sm.flush();
      expect(sm.writeBackpressure()).to.equal(undefined);
      expect(sm.usage().storeQueueBytes).to.equal(0);
      expect(gated.inner.usage().objects).to.equal(accepted);
      expect(sm.reserveWrite(keys([total]), layout)[0]).to.not.equal(undefined);
    } finally {
      gated.open(); // a failed assertion must not leave close() waiting on the stalled store
      await closeAll();
      await tmp.meterProvider.shutdown();
    }
  });

  it('with skip_l2 a stalled L2 never pins more than the bound: later writes still fit in L1 and their write-through is dropped and counted', async () => {
    const tmp = createTestMeterProvider();
    const gated = new SlowL2(0, true);
    try {
      // 256 KiB of L1, 1 KiB chunks: without the bound every write-through pins its object and
      // the 257th write answers OUT_OF_MEMORY.
      const sm = manager({ l2: [gated], meterProvider: tmp.meterProvider, storeBacklogPolicy: 'skip_l2' });
      const total = 400;
      for (let i = 0; i < total; i++) {
        const [obj] = sm.reserveWrite(keys([i]), layout);
        expect(obj, `reserveWrite of key ${i}`).to.not.equal(undefined);
        sm.finishWrite(keys([i]));
      }
      expect(sm.writeBackpressure()).to.equal(undefined);
      const limit = sm.options.storeQueueLimitBytes;
      expect(limit).to.equal(64 * KIB);
      expect(sm.usage().storeQueueBytes).to.equal(limit);
      expect(sm.usage().l1.byState.readLocked).to.equal(limit / KIB);
      const rm = await tmp.collect();
      expect(valueOf(rm, 'tierkv.storage.store.dropped', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(total - limit / KIB);
      expect(valueOf(rm, 'tierkv.storage.store.dropped', { 'tierkv.storage.refusal.reason': 'queue_full' })).to.equal(0);
      expect(valueOf(rm, 'tierkv.storage.write.rejected_keys', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(0);
      gated.open();
      await sm.flush();
      expect(sm.usage().storeQueueBytes).to.equal(0);
      expect(sm.usage().l1.byState.readLocked).to.equal(0);
      expect(gated.inner.usage().objects).to.equal(limit / KIB);
    } finally {
      gated.open();
      await closeAll();
      await tmp.meterProvider.shutdown();
    }
  });

  for (const policy of ['reject_writes', 'skip_l2'] as const) {
    it(`${policy}: admits a batch larger than the bound when nothing is held (bound + one batch at most)`, async () => {
      const gated = new SlowL2(0, true);
      const sm = manager({ l2: [gated], storeQueueLimitBytes: 1, storeBacklogPolicy: policy });
      try {
        sm.reserveWrite(keys([0, 1]), layout);
        sm.finishWrite(keys([0, 1]));
        const [third] = sm.reserveWrite(keys([2]), layout);
        // reject_writes refuses the next key; skip_l2 takes it and drops its write-through.
        expect(third === undefined).to.equal(policy === 'reject_writes');
        if (third) sm.finishWrite(keys([2]));
        expect(sm.usage().storeQueueBytes).to.equal(2 * KIB);
      } finally {
        gated.open();
      }
      await sm.flush();
      expect(gated.inner.usage().objects).to.equal(2);
    });
  }

  it('rejects an unknown storeBacklogPolicy, naming the field and the allowed values', () => {
    expect(() => resolveStorageManagerOptions({ l1: { capacityBytes: KIB * KIB }, storeBacklogPolicy: 'drop' as never })).to.throw(/storage\.storeBacklogPolicy.*'reject_writes'.*'skip_l2'/);
    expect(resolveStorageManagerOptions({ l1: { capacityBytes: KIB * KIB } }).storeBacklogPolicy).to.equal('reject_writes');
  });
});
