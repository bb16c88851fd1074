import { expect } from 'chai';
import { encodeKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { closeAll, keys, KIB, layout, manager, pattern, SlowL2 } from './helpers.js';

describe('store back-pressure (storeBacklogPolicy: reject_writes, the default)', () => {
  afterEach(closeAll);

  it('refuses new keys once the backlog is over either bound, tells listeners and metrics, and accepts again once it drains', async () => {
    const tmp = createTestMeterProvider();
    const slow = new SlowL2(0, true);
    const other = new SlowL2(0, true);
    try {
      // One store call at a time, one key per call: the first batch runs, the next ones queue.
      const sm = manager({ l2: [slow], meterProvider: tmp.meterProvider, storeQueueLimit: 2, storeQueueLimitBytes: 3 * KIB, storeConcurrency: 1, storeBatchSize: 1 });
      const seen: { ok: string[]; failed: string[] }[] = [];
      sm.addListener({ onSmReservedWrite: (ok, failed) => seen.push({ ok: ok.map(encodeKey), failed: failed.map(encodeKey) }) });
      const put = (n: number): boolean => {
        const [obj] = sm.reserveWrite(keys([n]), layout);
        if (!obj) return false;
        obj.data.set(pattern(n));
        return sm.finishWrite(keys([n]))[0] === true;
      };
      // Key 0 is being stored, 1 and 2 queued: 2 batches queued reaches storeQueueLimit.
      expect([0, 1, 2].map(put)).to.deep.equal([true, true, true]);
      expect(sm.writeBackpressure()).to.equal('queue_full');
      expect(put(3)).to.equal(false);
      expect(seen.at(-1)).to.deep.equal({ ok: [], failed: [encodeKey(keys([3])[0]!)] });
      expect(sm.l1.contains(keys([3]))).to.deep.equal([false]);
      slow.open();
      await sm.flush();
      expect(sm.writeBackpressure()).to.equal(undefined);
      expect(put(3)).to.equal(true);

      // With room for every batch to run at once, the byte bound is the one reached.
      const gatedAgain = manager({ l2: [other], meterProvider: tmp.meterProvider, storeQueueLimitBytes: 3 * KIB, storeConcurrency: 4 });
      for (const n of [0, 1, 2]) {
        const [o] = gatedAgain.reserveWrite(keys([n]), layout);
        expect(o).to.not.equal(undefined);
        gatedAgain.finishWrite(keys([n]));
      }
      expect(gatedAgain.writeBackpressure()).to.equal('queue_bytes');
      expect(gatedAgain.reserveWrite(keys([3, 4]), layout)).to.deep.equal([undefined, undefined]);
      other.open();
      await gatedAgain.flush();
      expect(gatedAgain.writeBackpressure()).to.equal(undefined);

      const rm = await tmp.collect();
      expect(valueOf(rm, 'tierkv.storage.write.rejected_keys', { 'tierkv.storage.refusal.reason': 'queue_full' })).to.equal(1);
      expect(valueOf(rm, 'tierkv.storage.write.rejected_keys', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(2);
      expect(valueOf(rm, 'tierkv.storage.store.dropped', { 'tierkv.storage.refusal.reason': 'queue_full' })).to.equal(0);
      expect(valueOf(rm, 'tierkv.storage.store.dropped', { 'tierkv.storage.refusal.reason': 'queue_bytes' })).to.equal(0);
      await sm.close();
      expect([...slow.stored.keys()].sort()).to.deep.equal(keys([0, 1, 2, 3]).map(encodeKey).sort());
    } finally {
      slow.open();
      other.open();
      await closeAll();
      await tmp.meterProvider.shutdown();
    }
  });

  it('with a slow L2 and a small bound, writers that retry after a refusal lose no acknowledged object: all are in L2 after close()', async () => {
    const slow = new SlowL2(3);
    // 8 KiB of write-throughs at most while L1 holds 256 KiB: the bound, not L1, stops writers.
    const sm = manager({ l2: [slow], storeQueueLimitBytes: 8 * KIB, storeBatchSize: 4, storeConcurrency: 1 });
    const acked: number[] = [];
    let refusals = 0;
    // Two writers interleave on the event loop, each writing 2-key batches and retrying refusals.
    const writer = async (base: number) => {
      for (let n = base; n < base + 120; n += 2) {
        for (;;) {
          const ks = keys([n, n + 1]);
          const objs = sm.reserveWrite(ks, layout);
          if (objs.every((o) => o !== undefined)) {
            objs.forEach((o, i) => o!.data.set(pattern(n + i)));
            sm.finishWrite(ks).forEach((ok, i) => ok && acked.push(n + i));
            break;
          }
          // Refused whole under back-pressure (a partial reservation would be L1's doing).
          expect(objs.every((o) => o === undefined)).to.equal(true);
          expect(sm.writeBackpressure()).to.be.oneOf(['queue_full', 'queue_bytes']);
          refusals++;
          await new Promise((r) => setTimeout(r, 1));
        }
        if (n % 8 === 0) await Promise.resolve();
      }
    };
    await Promise.all([writer(0), writer(1000)]);
    expect(refusals, 'the bound was reached').to.be.greaterThan(0);
    expect(sm.usage().storeQueueBytes).to.be.at.most(8 * KIB + 2 * KIB);
    await sm.close();
    expect(acked).to.have.length(240);
    const missing = acked.filter((n) => !slow.stored.has(encodeKey(keys([n])[0]!)));
    expect(missing, 'acknowledged objects missing from L2').to.deep.equal([]);
    for (const n of acked) expect(Buffer.from(slow.stored.get(encodeKey(keys([n])[0]!))!).equals(Buffer.from(pattern(n))), `bytes of key ${n}`).to.equal(true);
  });
});
