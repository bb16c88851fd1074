import { expect } from 'chai';
import { ClosedError, ConfigError, InvalidArgumentError } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import type { StorageManagerListener } from '../../src/manager/storage-listener.js';
import { KIB, closeAll, codes, expectPattern, key, keys, layout, manager, write } from './helpers.js';

describe('StorageManager', () => {
  afterEach(closeAll);

  describe('L1 only (LMCache scenarios)', () => {
    it('reserves and finishes writes', () => {
      const sm = manager();
      write(sm, [1, 2, 3]);
      expect(sm.usage().l1.objects).to.equal(3);
    });

    it('returns undefined for keys it cannot reserve (out of memory)', () => {
      const sm = manager({ l1: { capacityBytes: 16 * KIB } });
      const objs = sm.reserveWrite(keys([...Array(20).keys()]), layout);
      const got = objs.filter((o) => o !== undefined).length;
      expect(got).to.be.greaterThan(0).and.lessThan(20);
      sm.abortWrite(keys([...Array(20).keys()]).filter((_, i) => objs[i]));
      expect(sm.l1.memcheck().ok).to.equal(true);
    });

    it('prefetches a full prefix of L1 hits synchronously', () => {
      const sm = manager();
      const ks = write(sm, [0, 1, 2, 3, 4]);
      const h = sm.submitPrefetch(ks, layout);
      expect(sm.queryPrefetchStatus(h)).to.equal(5);
      sm.finishReadPrefetched(ks);
      expect(codes(sm.l1.delete(ks))).to.deep.equal(ks.map(() => 'SUCCESS'));
    });

    it('keeps the status of the last prefetchResultsLimit settled prefetches, forgetting the oldest first', () => {
      const sm = manager({ prefetchResultsLimit: 3 });
      const ks = write(sm, [0, 1, 2]);
      const handles: ReturnType<typeof sm.submitPrefetch>[] = [];
      // Enough to go round the kept results several times.
      for (let i = 0; i < 10; i++) {
        handles.push(sm.submitPrefetch(ks.slice(0, 1 + (i % 3)), layout));
        sm.finishReadPrefetched(ks.slice(0, 1 + (i % 3)));
        for (let j = 0; j <= i; j++) {
          if (j > i - 3) expect(sm.queryPrefetchStatus(handles[j]!), `prefetch ${j} after ${i}`).to.equal(1 + (j % 3));
          else expect(() => sm.queryPrefetchStatus(handles[j]!), `prefetch ${j} after ${i}`).to.throw(InvalidArgumentError, /older than the last 3 prefetches/);
        }
      }
    });

    it('stops the prefix at a gap: keys 0,1,3,4 present → 2, and 3,4 stay unlocked and deletable', () => {
      const sm = manager();
      write(sm, [0, 1, 3, 4]);
      const all = keys([0, 1, 2, 3, 4]);
      const h = sm.submitPrefetch(all, layout);
      expect(sm.queryPrefetchStatus(h)).to.equal(2);
      expect(codes(sm.l1.delete(keys([3, 4])))).to.deep.equal(['SUCCESS', 'SUCCESS']);
      expect(codes(sm.l1.delete(keys([0, 1])))).to.deep.equal(['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
      sm.finishReadPrefetched(keys([0, 1]));
      expect(codes(sm.l1.delete(keys([0, 1])))).to.deep.equal(['SUCCESS', 'SUCCESS']);
    });

    it('reads prefetched objects, then releases them', () => {
      const sm = manager();
      const ks = write(sm, [0, 1, 2]);
      const h = sm.submitPrefetch(ks, layout);
      expect(sm.queryPrefetchStatus(h)).to.equal(3);
      const objs = sm.readPrefetched(ks);
      expectPattern(objs!, [0, 1, 2]);
      sm.finishReadPrefetched(ks);
      expect(codes(sm.l1.delete(ks))).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    });

    it('readPrefetched yields nothing when any key is missing, and leaves no lock behind', () => {
      const sm = manager();
      const ks = write(sm, [0, 1, 2, 3, 4]);
      const h = sm.submitPrefetch(ks.slice(1), layout);
      expect(sm.queryPrefetchStatus(h)).to.equal(4);
      expect(sm.readPrefetched(ks)).to.equal(undefined);
      expect(codes(sm.l1.delete(ks.slice(1)))).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
      expect(sm.l1.memcheck().ok).to.equal(true);
    });

    it('counts prefetch locks: two prefetches need two releases', () => {
      const sm = manager();
      const ks = write(sm, [0, 1]);
      sm.submitPrefetch(ks, layout);
      sm.submitPrefetch(ks, layout);
      sm.finishReadPrefetched(ks);
      expect(codes(sm.l1.delete(ks))).to.deep.equal(['KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
      sm.finishReadPrefetched(ks);
      expect(codes(sm.l1.delete(ks))).to.deep.equal(['SUCCESS', 'SUCCESS']);
    });

    it('answers an unknown handle with InvalidArgumentError', () => {
      const sm = manager();
      expect(() => sm.queryPrefetchStatus({ id: 999 })).to.throw(InvalidArgumentError, 'unknown prefetch handle');
    });
  });

  describe('with L2 tiers', () => {
    it('writes through to L2 and prefetches back identical bytes after L1 lost them', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      const ks = write(sm, [0, 1, 2, 3, 4]);
      await sm.flush();
      expect(l2.usage().objects).to.equal(5);
      await sm.clear();
      expect(sm.usage().l1.usedBytes).to.equal(0);
      const h = sm.submitPrefetch(ks, layout);
      expect(sm.queryPrefetchStatus(h)).to.equal(undefined);
      expect(await sm.waitPrefetch(h)).to.equal(5);
      expect(sm.queryPrefetchStatus(h)).to.equal(5);
      expectPattern(sm.readPrefetched(ks)!, [0, 1, 2, 3, 4]);
      sm.finishReadPrefetched(ks);
      for (const k of ks) expect(l2.pinsOf(k)).to.equal(0);
      expect(sm.l1.memcheck().ok).to.equal(true);
    });

    it('survives L1 eviction: early writes come back from L2', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2], l1: { capacityBytes: 8 * KIB } as never });
      for (let i = 0; i < 24; i += 4) {
        write(sm, [i, i + 1, i + 2, i + 3]);
        await sm.flush(); // the write-through releases its read locks, so L1 can evict
      }
      const early = keys([0, 1, 2, 3]);
      expect(await sm.lookup(early)).to.deep.equal(['l2', 'l2', 'l2', 'l2']);
      const h = sm.submitPrefetch(early, layout);
      expect(await sm.waitPrefetch(h)).to.equal(4);
      expectPattern(sm.readPrefetched(early)!, [0, 1, 2, 3]);
      sm.finishReadPrefetched(early);
    });

    it('joins an L1 prefix with an L2 continuation', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      const ks = write(sm, [0, 1, 2, 3, 4]);
      await sm.flush();
      expect(codes(sm.l1.delete(ks.slice(2)))).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      const h = sm.submitPrefetch(ks, layout);
      expect(await sm.waitPrefetch(h)).to.equal(5);
      expectPattern(sm.readPrefetched(ks)!, [0, 1, 2, 3, 4]);
      sm.finishReadPrefetched(ks);
    });

    it('stops an L2 prefix at a gap and releases everything beyond it', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      write(sm, [0, 1, 3, 4]);
      await sm.flush();
      await sm.clear();
      const all = keys([0, 1, 2, 3, 4]);
      const h = sm.submitPrefetch(all, layout);
      expect(await sm.waitPrefetch(h)).to.equal(2);
      for (const k of all) expect(l2.pinsOf(k)).to.equal(0);
      expect(sm.l1.contains(keys([3, 4]))).to.deep.equal([false, false]);
      expectPattern(sm.readPrefetched(all.slice(0, 2))!, [0, 1]);
      sm.finishReadPrefetched(all.slice(0, 2));
      expect(sm.l1.memcheck().ok).to.equal(true);
    });

    it('finds nothing anywhere → 0', async () => {
      const sm = manager({ l2: [new MemoryL2Adapter()] });
      const h = sm.submitPrefetch(keys([0, 1, 2]), layout);
      expect(await sm.waitPrefetch(h)).to.equal(0);
    });

    it('looks in the L2 tiers in order', async () => {
      const a = new MemoryL2Adapter({ name: 'a' });
      const b = new MemoryL2Adapter({ name: 'b' });
      const sm = manager({ l2: [a, b] });
      write(sm, [0, 1, 2]);
      await sm.flush();
      await sm.clear();
      await a.delete(keys([1]));
      const h = sm.submitPrefetch(keys([0, 1, 2]), layout);
      expect(await sm.waitPrefetch(h)).to.equal(3);
      expectPattern(sm.readPrefetched(keys([0, 1, 2]))!, [0, 1, 2]);
      sm.finishReadPrefetched(keys([0, 1, 2]));
    });

    it('a failed load ends the prefix there and leaks nothing', async () => {
      const inner = new MemoryL2Adapter();
      const faulty = new FaultyL2Adapter(inner, { seed: 1 });
      const sm = manager({ l2: [faulty], loadBatchSize: 1 });
      const ks = write(sm, [0, 1, 2, 3]);
      await sm.flush();
      await sm.clear();
      faulty.faults.load.failRate(1);
      const h = sm.submitPrefetch(ks, layout);
      expect(await sm.waitPrefetch(h)).to.equal(0);
      for (const k of ks) expect(inner.pinsOf(k)).to.equal(0);
      expect(sm.usage().l1.usedBytes).to.equal(0);
      expect(sm.l1.memcheck().ok).to.equal(true);
      faulty.faults.load.never();
      expect(await sm.waitPrefetch(sm.submitPrefetch(ks, layout))).to.equal(4);
      sm.finishReadPrefetched(ks);
    });

    it('a corrupt object in L2 is a miss, never data', async () => {
      const inner = new MemoryL2Adapter();
      const faulty = new FaultyL2Adapter(inner, { seed: 2 });
      const sm = manager({ l2: [faulty] });
      const ks = write(sm, [0, 1, 2]);
      await sm.flush();
      await sm.clear();
      await inner.corruptStoredObject(ks[1]!, 17);
      const h = sm.submitPrefetch(ks, layout);
      expect(await sm.waitPrefetch(h)).to.equal(1);
      expectPattern(sm.readPrefetched(ks.slice(0, 1))!, [0]);
      sm.finishReadPrefetched(ks.slice(0, 1));
      expect(await inner.lookupAndLock([ks[1]!])).to.deep.equal([false]);
    });

    it('skip_l1 drops objects from L1 once every adapter stored them', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2], storePolicy: 'skip_l1' });
      const ks = write(sm, [0, 1, 2]);
      await sm.flush();
      expect(sm.l1.contains(ks)).to.deep.equal([false, false, false]);
      expect(await sm.lookup(ks)).to.deep.equal(['l2', 'l2', 'l2']);
    });

    it('skip_l2: a full store queue drops write-throughs, counted, objects stay in L1', async () => {
      const inner = new MemoryL2Adapter();
      const slow = new FaultyL2Adapter(inner, { seed: 3 });
      slow.faults.store.delay(20, 20);
      const sm = manager({ l2: [slow], storeQueueLimit: 1, storeConcurrency: 1, storeBatchSize: 1, storeBacklogPolicy: 'skip_l2' });
      for (let i = 0; i < 6; i++) write(sm, [i]);
      expect(sm.usage().storeQueueDepth).to.be.at.most(2);
      await sm.flush();
      const stored = inner.usage().objects;
      expect(stored).to.be.lessThan(6);
      expect(sm.l1.contains(keys([0, 1, 2, 3, 4, 5]))).to.deep.equal(Array(6).fill(true));
      expect(sm.l1.memcheck().ok).to.equal(true);
    });

    it('deletes from L1 and every L2 tier', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      const ks = write(sm, [0, 1]);
      await sm.delete(ks);
      expect(await sm.lookup(ks)).to.deep.equal(['miss', 'miss']);
      expect(l2.usage().objects).to.equal(0);
    });

    it('clear({ l2: true }) empties L2 too', async () => {
      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      write(sm, [0, 1]);
      await sm.clear({ l2: true });
      expect(l2.usage().objects).to.equal(0);
      expect(sm.usage().l1.objects).to.equal(0);
    });
  });

  describe('close', () => {
    it('waits for pending L2 stores, then every call throws ClosedError', async () => {
      const inner = new MemoryL2Adapter();
      const slow = new FaultyL2Adapter(inner, { seed: 4 });
      slow.faults.store.delay(10, 10);
      let stored = 0;
      const sm = manager({ l2: [slow] });
      sm.addListener({ onL2KeysStored: (_a, ks) => (stored += ks.length) });
      write(sm, [0, 1, 2]);
      await sm.close();
      expect(stored).to.equal(3);
      expect(() => sm.reserveWrite([key(9)], layout)).to.throw(ClosedError);
      expect(() => sm.finishWrite([key(9)])).to.throw(ClosedError);
      expect(() => sm.submitPrefetch([key(9)], layout)).to.throw(ClosedError);
      expect(() => sm.readPrefetched([key(9)])).to.throw(ClosedError);
      expect(() => sm.finishReadPrefetched([key(9)])).to.throw(ClosedError);
      expect(() => sm.usage()).to.throw(ClosedError);
      await expectClosed(sm.lookup([key(9)]));
      await expectClosed(sm.delete([key(9)]));
      await expectClosed(sm.clear());
      await sm.close(); // idempotent
    });

    it('waits for an in-flight lookup before closing the adapters', async () => {
      const inner = new MemoryL2Adapter();
      const slow = new FaultyL2Adapter(inner, { seed: 6 });
      const sm = manager({ l2: [slow] });
      write(sm, [0]);
      await sm.flush();
      await sm.clear();
      slow.faults.lookup.delay(10, 10);
      const pending = sm.lookup([key(0)]);
      await sm.close();
      expect(await pending).to.deep.equal(['l2']);
    });

    it('waits for pending prefetches', async () => {
      const inner = new MemoryL2Adapter();
      const slow = new FaultyL2Adapter(inner, { seed: 5 });
      const sm = manager({ l2: [slow] });
      const ks = write(sm, [0, 1]);
      await sm.flush();
      await sm.clear();
      slow.faults.load.delay(15, 15);
      const h = sm.submitPrefetch(ks, layout);
      await sm.close();
      expect(slow.injected.rejectedBatches).to.equal(0);
      void h;
    });
  });

  describe('listeners', () => {
    it('reports succeeded and failed keys', () => {
      const sm = manager({ l1: { capacityBytes: 4 * KIB } as never });
      const events: [string, number, number][] = [];
      const l: StorageManagerListener = {
        onSmReservedWrite: (ok, failed) => events.push(['reserve', ok.length, failed.length]),
        onSmWriteFinished: (ok, failed) => events.push(['finish', ok.length, failed.length]),
        onSmReadPrefetched: (ok, failed) => events.push(['read', ok.length, failed.length]),
        onSmPrefetchSubmitted: (req, l1, l2) => events.push(['prefetch', req.length, l1 + l2]),
      };
      sm.addListener(l);
      const objs = sm.reserveWrite(keys([0, 1, 2, 3, 4, 5]), layout);
      const ok = keys([0, 1, 2, 3, 4, 5]).filter((_, i) => objs[i]);
      sm.finishWrite(ok);
      sm.submitPrefetch(ok, layout);
      sm.readPrefetched([...ok, key(99)]);
      expect(events[0]![0]).to.equal('reserve');
      expect(events[0]![1] + events[0]![2]).to.equal(6);
      expect(events[0]![2]).to.be.greaterThan(0);
      expect(events[1]).to.deep.equal(['finish', ok.length, 0]);
      expect(events[2]).to.deep.equal(['prefetch', ok.length, ok.length]);
      expect(events[3]).to.deep.equal(['read', ok.length, 1]);
    });

    it('reports L1 evictions (and, without L2, deletions)', () => {
      const sm = manager({ l1: { capacityBytes: 4 * KIB } as never });
      const evicted: number[] = [];
      const deleted: number[] = [];
      sm.addListener({ onSmKeysEvicted: (ks) => evicted.push(ks.length), onSmKeysDeleted: (ks) => deleted.push(ks.length) });
      for (let i = 0; i < 8; i++) write(sm, [i]);
      const n = evicted.reduce((a, b) => a + b, 0);
      expect(n).to.be.greaterThan(0);
      expect(deleted.reduce((a, b) => a + b, 0)).to.equal(n);
    });

    it('isolates a throwing listener', () => {
      const sm = manager();
      sm.addListener({
        onSmReservedWrite: () => {
          throw new Error('boom');
        },
      });
      write(sm, [0]);
      expect(sm.l1.contains([key(0)])).to.deep.equal([true]);
    });

    it('stops calling a removed listener', () => {
      const sm = manager();
      let n = 0;
      const remove = sm.addListener({ onSmWriteFinished: () => n++ });
      write(sm, [0]);
      remove();
      write(sm, [1]);
      expect(n).to.equal(1);
    });
  });

  describe('options', () => {
    it('names the bad field', () => {
      const bad: [Record<string, unknown>, string][] = [
        [{ storePolicy: 'sometimes' }, 'storage.storePolicy'],
        [{ storeQueueLimit: 0 }, 'storage.storeQueueLimit'],
        [{ storeBacklogPolicy: 'drop' }, 'storage.storeBacklogPolicy'],
        [{ maxInFlight: 1.5 }, 'storage.maxInFlight'],
        [{ l2: [{}] }, 'storage.l2[0]'],
        [{ l2: [new MemoryL2Adapter(), new MemoryL2Adapter()] }, 'storage.l2[1].name'],
      ];
      for (const [opts, field] of bad) {
        expect(() => manager(opts as never), field).to.throw(ConfigError).with.property('field', field);
      }
    });
  });

  describe('lookupNow', () => {
    it('answers as lookup() does when L1 settles it, and undefined when an L2 tier must be asked', async () => {
      const only = manager();
      write(only, [0, 1]);
      const asked = keys([0, 1, 2]);
      expect(only.lookupNow(asked)).to.deep.equal(['l1', 'l1', 'miss']).and.deep.equal(await only.lookup(asked));

      const l2 = new MemoryL2Adapter();
      const sm = manager({ l2: [l2] });
      const ks = write(sm, [0, 1]);
      await sm.flush();
      expect(sm.lookupNow(ks)).to.deep.equal(['l1', 'l1']);
      await sm.clear();
      // Only L2 holds them now, and a key absent everywhere could be in L2 as far as L1 knows.
      expect(sm.lookupNow(ks)).to.equal(undefined);
      expect(sm.lookupNow(keys([7]))).to.equal(undefined);
      expect(await sm.lookup(ks)).to.deep.equal(['l2', 'l2']);
      expect(() => sm.lookupNow([{ chunkHash: 'nope' } as never])).to.throw(InvalidArgumentError);
      await sm.close();
      expect(() => sm.lookupNow(ks)).to.throw(ClosedError);
    });
  });
});

async function expectClosed(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(ClosedError);
}
