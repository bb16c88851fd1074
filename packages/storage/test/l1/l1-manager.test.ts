import { expect } from 'chai';
import { ClosedError, ConfigError, InvalidArgumentError, MemoryLayout } from '@tierkv/core';
import { waitFor } from '@tierkv/test-utils';
import { L1Manager } from '../../src/l1/l1-manager.js';
import type { L1Listener } from '../../src/l1/l1-listener.js';
import { keyChargeBytes } from '../../src/l1/key-charge.js';
import { FakeClock, KIB, MIB, closeAll, codes, key, keys, layout1k, manager, put } from './helpers.js';

describe('L1Manager', () => {
  afterEach(closeAll);

  describe('reserveRead', () => {
    it('answers KEY_NOT_EXIST for an absent key', () => {
      const m = manager();
      const [r] = m.reserveRead([key(1)]);
      expect(r!.code).to.equal('KEY_NOT_EXIST');
      expect(r!.obj).to.equal(undefined);
    });

    it('answers KEY_NOT_READABLE for a write-locked key', () => {
      const m = manager();
      expect(codes(m.reserveWrite([key(1)], layout1k))).to.deep.equal(['SUCCESS']);
      const [r] = m.reserveRead([key(1)]);
      expect(r!.code).to.equal('KEY_NOT_READABLE');
      expect(r!.obj).to.equal(undefined);
    });

    it('hands out the object written, as a view of the arena', () => {
      const m = manager();
      const [w] = m.reserveWrite([key(1)], layout1k);
      w!.obj!.data.fill(7);
      m.finishWrite([key(1)]);
      const [r] = m.reserveRead([key(1)]);
      expect(r!.code).to.equal('SUCCESS');
      expect(r!.obj!.data.byteLength).to.equal(KIB);
      expect(r!.obj!.data.every((b) => b === 7)).to.equal(true);
      expect(r!.obj!.data.buffer).to.equal(w!.obj!.data.buffer);
      expect(r!.obj!.key).to.deep.equal(key(1));
      expect(r!.obj!.layout.equals(layout1k)).to.equal(true);
    });

    it('gives per-key results for a mixed batch', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(3)], layout1k);
      expect(codes(m.reserveRead([key(1), key(2), key(3)]))).to.deep.equal(['SUCCESS', 'KEY_NOT_EXIST', 'KEY_NOT_READABLE']);
    });

    it('counts read locks; the object stays read-locked until the last is released', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveRead([key(1)]);
      m.reserveRead([key(1)]);
      m.reserveRead([key(1)], 2);
      expect(m.inspect(key(1))).to.include({ state: 'read_locked', readLocks: 4 });
      expect(codes(m.finishRead([key(1)]))).to.deep.equal(['SUCCESS']);
      expect(m.inspect(key(1))).to.include({ state: 'read_locked', readLocks: 3 });
      expect(codes(m.delete([key(1)]))).to.deep.equal(['KEY_IS_LOCKED']);
      m.finishRead([key(1)], 3);
      expect(m.inspect(key(1))).to.include({ state: 'ready', readLocks: 0 });
      expect(codes(m.delete([key(1)]))).to.deep.equal(['SUCCESS']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('rejects a read-lock count outside [1, 128]', () => {
      const m = manager();
      expect(() => m.reserveRead([key(1)], 0)).to.throw(InvalidArgumentError, /readLocks/);
      expect(() => m.finishRead([key(1)], 129)).to.throw(InvalidArgumentError, /readLocks/);
    });
  });

  describe('unsafeRead', () => {
    it('follows LMCache: absent → KEY_NOT_EXIST, not read-locked → KEY_NOT_READABLE', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(2)], layout1k);
      put(m, [key(3)]);
      const [held] = m.reserveRead([key(3)]);
      const r = m.unsafeRead([key(0), key(1), key(2), key(3)]);
      expect(codes(r)).to.deep.equal(['KEY_NOT_EXIST', 'KEY_NOT_READABLE', 'KEY_NOT_READABLE', 'SUCCESS']);
      expect(r[3]!.obj).to.equal(held!.obj);
      expect(m.inspect(key(3))!.readLocks).to.equal(1);
    });
  });

  describe('finishRead', () => {
    it('answers KEY_NOT_EXIST for an absent key', () => {
      expect(codes(manager().finishRead([key(1)]))).to.deep.equal(['KEY_NOT_EXIST']);
    });

    it('answers KEY_IN_WRONG_STATE for a write-locked key', () => {
      const m = manager();
      m.reserveWrite([key(1)], layout1k);
      expect(codes(m.finishRead([key(1)]))).to.deep.equal(['KEY_IN_WRONG_STATE']);
    });

    it('answers KEY_IN_WRONG_STATE for a key with no read lock', () => {
      const m = manager();
      put(m, [key(1)]);
      expect(codes(m.finishRead([key(1)]))).to.deep.equal(['KEY_IN_WRONG_STATE']);
      m.reserveRead([key(1)]);
      expect(codes(m.finishRead([key(1)]))).to.deep.equal(['SUCCESS']);
      expect(codes(m.finishRead([key(1)]))).to.deep.equal(['KEY_IN_WRONG_STATE']);
    });

    it('frees a temporary object when its last reader finishes', () => {
      const m = manager();
      m.reserveWrite([key(1)], layout1k, 'new', { temporary: true });
      m.finishWrite([key(1)]);
      m.reserveRead([key(1)]);
      m.reserveRead([key(1)]);
      m.finishRead([key(1)]);
      expect(m.inspect(key(1))).to.include({ state: 'read_locked', temporary: true });
      const used = m.usage().usedBytes;
      m.finishRead([key(1)]);
      expect(m.inspect(key(1))).to.equal(undefined);
      expect(m.usage().usedBytes).to.equal(used - KIB);
      expect(codes(m.reserveRead([key(1)]))).to.deep.equal(['KEY_NOT_EXIST']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('keeps a temporary object nobody read (evictable like any other)', () => {
      const m = manager();
      m.reserveWrite([key(1)], layout1k, 'new', { temporary: true });
      m.finishWrite([key(1)]);
      expect(m.contains([key(1)])).to.deep.equal([true]);
    });
  });

  describe('reserveWrite', () => {
    it('mode new: an existing key (any state) answers KEY_NOT_WRITABLE', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(2)], layout1k);
      put(m, [key(3)]);
      m.reserveRead([key(3)]);
      const r = m.reserveWrite([key(1), key(2), key(3), key(4)], layout1k, 'new');
      expect(codes(r)).to.deep.equal(['KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE', 'SUCCESS']);
      expect(r[0]!.obj).to.equal(undefined);
    });

    it('mode update: only existing, ready, unlocked keys; absent → KEY_NOT_WRITABLE', () => {
      const m = manager();
      const [first] = put(m, [key(1)]).map((k) => m.inspect(k));
      expect(first).to.include({ state: 'ready' });
      const before = m.reserveRead([key(1)])[0]!.obj!;
      m.finishRead([key(1)]);
      const r = m.reserveWrite([key(1), key(2)], layout1k, 'update');
      expect(codes(r)).to.deep.equal(['SUCCESS', 'KEY_NOT_WRITABLE']);
      // Same layout: written in place, same memory.
      expect(r[0]!.obj!.data.byteOffset).to.equal(before.data.byteOffset);
      expect(m.inspect(key(1))).to.include({ state: 'write_locked' });
      expect(codes(m.reserveRead([key(1)]))).to.deep.equal(['KEY_NOT_READABLE']);
      m.finishWrite([key(1)]);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('mode all: new keys and ready keys; locked or temporary keys answer KEY_NOT_WRITABLE', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(2)], layout1k);
      put(m, [key(3)]);
      m.reserveRead([key(3)]);
      m.reserveWrite([key(4)], layout1k, 'new', { temporary: true });
      m.finishWrite([key(4)]);
      const r = m.reserveWrite([key(1), key(2), key(3), key(4), key(5)], layout1k, 'all');
      expect(codes(r)).to.deep.equal(['SUCCESS', 'KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE', 'KEY_NOT_WRITABLE', 'SUCCESS']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('update with a layout of another size moves the object to a new block', () => {
      const m = manager();
      put(m, [key(1)]);
      const big = MemoryLayout.bytes(4 * KIB);
      const [r] = m.reserveWrite([key(1)], big, 'update');
      expect(r!.code).to.equal('SUCCESS');
      expect(r!.obj!.data.byteLength).to.equal(4 * KIB);
      expect(m.usage().usedBytes).to.equal(4 * KIB);
      m.finishWrite([key(1)]);
      expect(m.inspect(key(1))!.byteSize).to.equal(4 * KIB);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('a key repeated in one batch is reserved once', () => {
      const m = manager();
      expect(codes(m.reserveWrite([key(1), key(1)], layout1k))).to.deep.equal(['SUCCESS', 'KEY_NOT_WRITABLE']);
      expect(m.usage().objects).to.equal(1);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('answers OUT_OF_MEMORY for every new key when the batch cannot fit (small pool)', () => {
      const m = manager({ capacityBytes: 16 * KIB });
      const big = MemoryLayout.bytes(4 * KIB);
      const r = m.reserveWrite(keys(0, 10), big);
      expect(codes(r)).to.deep.equal(Array(10).fill('OUT_OF_MEMORY'));
      expect(r.every((x) => x.obj === undefined)).to.equal(true);
      expect(m.usage()).to.include({ objects: 0, usedBytes: 0 });
      expect(m.memcheck().problems).to.deep.equal([]);
      // A batch that fits still works afterwards.
      expect(codes(m.reserveWrite(keys(0, 4), big))).to.deep.equal(Array(4).fill('SUCCESS'));
      expect(codes(m.reserveWrite([key(9)], big))).to.deep.equal(['OUT_OF_MEMORY']);
    });

    it('partial: reserves the leading keys that fit, in key order', () => {
      const m = manager({ capacityBytes: 16 * KIB, triggerWatermark: 1 });
      const big = MemoryLayout.bytes(4 * KIB);
      put(m, [key(100)], big);
      m.reserveRead([key(100)]);
      const r = m.reserveWrite([key(0), key(100), key(1), key(2), key(3)], big, 'new', { partial: true });
      expect(codes(r)).to.deep.equal(['SUCCESS', 'KEY_NOT_WRITABLE', 'SUCCESS', 'SUCCESS', 'OUT_OF_MEMORY']);
      expect(m.usage().objects).to.equal(4);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('partial: evicts on demand for each key that needs room', () => {
      const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1 });
      put(m, keys(0, 4));
      m.reserveRead([key(3)]);
      const r = m.reserveWrite(keys(10, 5), layout1k, 'new', { partial: true });
      expect(codes(r)).to.deep.equal(['SUCCESS', 'SUCCESS', 'SUCCESS', 'OUT_OF_MEMORY', 'OUT_OF_MEMORY']);
      expect(m.contains(keys(0, 4))).to.deep.equal([false, false, false, true]);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('keeps non-allocating results when the allocations of the batch fail', () => {
      const m = manager({ capacityBytes: 8 * KIB });
      put(m, [key(1)]);
      m.reserveRead([key(1)]);
      const r = m.reserveWrite([key(1), key(2)], MemoryLayout.bytes(8 * KIB), 'all');
      expect(codes(r)).to.deep.equal(['KEY_NOT_WRITABLE', 'OUT_OF_MEMORY']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('an object larger than the arena is OUT_OF_MEMORY, not an exception', () => {
      const m = manager({ capacityBytes: 4 * KIB });
      expect(codes(m.reserveWrite([key(1)], MemoryLayout.bytes(5 * KIB)))).to.deep.equal(['OUT_OF_MEMORY']);
    });

    it('rejects bad arguments with typed errors', () => {
      const m = manager();
      expect(() => m.reserveWrite([key(1)], {} as MemoryLayout)).to.throw(InvalidArgumentError, /layout/);
      expect(() => m.reserveWrite([key(1)], layout1k, 'bogus' as 'new')).to.throw(InvalidArgumentError, /mode/);
      expect(() => m.reserveWrite('k' as never, layout1k)).to.throw(InvalidArgumentError, /keys/);
      expect(() => m.reserveWrite([key(1), { chunkHash: 'x' } as never], layout1k)).to.throw(InvalidArgumentError, /keys\[1\]/);
      expect(() => m.reserveRead([undefined as never])).to.throw(InvalidArgumentError, /keys\[0\]/);
      expect(() => m.delete([null as never])).to.throw(InvalidArgumentError, /keys\[0\]/);
      // Nothing was reserved by the failed call.
      expect(m.usage().objects).to.equal(0);
    });
  });

  describe('finishWrite and abortWrite', () => {
    it('finishWrite: absent → KEY_NOT_EXIST, ready → KEY_IN_WRONG_STATE', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(2)], layout1k);
      expect(codes(m.finishWrite([key(0), key(1), key(2)]))).to.deep.equal(['KEY_NOT_EXIST', 'KEY_IN_WRONG_STATE', 'SUCCESS']);
      expect(codes(m.finishWrite([key(2)]))).to.deep.equal(['KEY_IN_WRONG_STATE']);
    });

    it('finishWriteAndReserveRead: write-locked → read-locked in one step', () => {
      const m = manager();
      put(m, [key(1)]);
      const [w] = m.reserveWrite([key(2)], layout1k);
      const r = m.finishWriteAndReserveRead([key(0), key(1), key(2)]);
      expect(codes(r)).to.deep.equal(['KEY_NOT_EXIST', 'KEY_IN_WRONG_STATE', 'SUCCESS']);
      expect(r[2]!.obj).to.equal(w!.obj);
      expect(m.inspect(key(2))).to.include({ state: 'read_locked', readLocks: 1 });
      expect(codes(m.finishRead([key(2)]))).to.deep.equal(['SUCCESS']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('abortWrite frees the reservation; other states answer as LMCache does', () => {
      const m = manager();
      put(m, [key(1)]);
      m.reserveWrite([key(2)], layout1k);
      expect(codes(m.abortWrite([key(0), key(1), key(2)]))).to.deep.equal(['KEY_NOT_EXIST', 'KEY_IN_WRONG_STATE', 'SUCCESS']);
      expect(m.inspect(key(2))).to.equal(undefined);
      expect(m.usage().objects).to.equal(1);
      expect(m.memcheck().problems).to.deep.equal([]);
    });
  });

  describe('delete, contains, clear', () => {
    it('delete: absent → KEY_NOT_EXIST, write- or read-locked → KEY_IS_LOCKED', () => {
      const m = manager();
      put(m, [key(1), key(3)]);
      m.reserveWrite([key(2)], layout1k);
      m.reserveRead([key(3)]);
      expect(codes(m.delete([key(0), key(1), key(2), key(3)]))).to.deep.equal(['KEY_NOT_EXIST', 'SUCCESS', 'KEY_IS_LOCKED', 'KEY_IS_LOCKED']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('contains: ready and read-locked keys only', () => {
      const m = manager();
      put(m, [key(1), key(3)]);
      m.reserveWrite([key(2)], layout1k);
      m.reserveRead([key(3)]);
      expect(m.contains([key(0), key(1), key(2), key(3)])).to.deep.equal([false, true, false, true]);
    });

    it('clear removes every unlocked object and reports the count', () => {
      const m = manager();
      put(m, keys(0, 5));
      m.reserveRead([key(0)]);
      m.reserveWrite([key(9)], layout1k);
      expect(m.clear()).to.equal(4);
      expect(m.usage().byState).to.deep.equal({ writeLocked: 1, ready: 0, readLocked: 1 });
      expect(m.memcheck().problems).to.deep.equal([]);
    });
  });

  describe('lock TTLs (injected clock)', () => {
    it('an expired write reservation makes the key absent and is reported as lock_expired', () => {
      const clock = new FakeClock();
      const m = manager({ now: clock.now, writeLockTtlMs: 1000 });
      const evicted: [string[], string][] = [];
      m.addListener({ onL1KeysEvicted: (ks, reason) => evicted.push([ks.map((k) => k.chunkHash), reason]) });
      m.reserveWrite([key(1)], layout1k);
      clock.advance(999);
      expect(m.inspect(key(1))).to.include({ state: 'write_locked' });
      clock.advance(1);
      expect(codes(m.finishWrite([key(1)]))).to.deep.equal(['KEY_NOT_EXIST']);
      expect(evicted).to.deep.equal([[[key(1).chunkHash], 'lock_expired']]);
      expect(m.usage()).to.include({ objects: 0, usedBytes: 0 });
      // The key can be written again.
      expect(codes(m.reserveWrite([key(1)], layout1k))).to.deep.equal(['SUCCESS']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('expired read locks drop the count; the object becomes deletable', () => {
      const clock = new FakeClock();
      const m = manager({ now: clock.now, readLockTtlMs: 500 });
      put(m, [key(1)]);
      m.reserveRead([key(1)], 3);
      clock.advance(400);
      m.reserveRead([key(1)]); // pushes the expiry back
      clock.advance(400);
      expect(m.inspect(key(1))).to.include({ state: 'read_locked', readLocks: 4 });
      clock.advance(100);
      expect(m.inspect(key(1))).to.include({ state: 'ready', readLocks: 0 });
      expect(codes(m.delete([key(1)]))).to.deep.equal(['SUCCESS']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('sweepExpiredLocks reclaims without the keys being touched', () => {
      const clock = new FakeClock();
      const m = manager({ now: clock.now, writeLockTtlMs: 10, readLockTtlMs: 10 });
      put(m, [key(1)]);
      m.reserveRead([key(1)]);
      m.reserveWrite(keys(10, 3), layout1k);
      m.reserveWrite([key(20)], layout1k, 'new', { temporary: true });
      m.finishWriteAndReserveRead([key(20)]);
      clock.advance(10);
      expect(m.sweepExpiredLocks()).to.equal(5);
      expect(m.usage()).to.deep.include({ objects: 1 });
      expect(m.usage().byState).to.deep.equal({ writeLocked: 0, ready: 1, readLocked: 0 });
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('the background sweep reclaims expired reservations nobody touches', async () => {
      const clock = new FakeClock();
      const m = manager({ now: clock.now, writeLockTtlMs: 1000, lockSweepIntervalMs: 5 });
      const evicted: string[] = [];
      m.addListener({ onL1KeysEvicted: (_ks, reason) => evicted.push(reason) });
      m.reserveWrite(keys(0, 3), layout1k);
      clock.advance(1000);
      // The TTL passed on the injected clock; only the sweep timer (5 ms, real time) is awaited.
      await waitFor(() => m.usage().objects === 0, 'the sweep to reclaim expired reservations', 5000, 2);
      expect(evicted).to.deep.equal(['lock_expired']);
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('defaults to 600 s for write locks and 300 s for read locks', () => {
      const m = manager();
      expect(m.options.writeLockTtlMs).to.equal(600_000);
      expect(m.options.readLockTtlMs).to.equal(300_000);
    });
  });

  describe('listeners', () => {
    it('get the succeeded keys of each call; unsubscribe stops them', () => {
      const m = manager();
      const events: string[] = [];
      const tag = (name: string) => (ks: readonly { chunkHash: string }[]) => events.push(`${name}:${ks.map((k) => parseInt(k.chunkHash, 16)).join(',')}`);
      const off = m.addListener({
        onL1KeysReservedWrite: tag('rw'),
        onL1KeysWriteFinished: tag('wf'),
        onL1KeysReservedRead: tag('rr'),
        onL1KeysReadFinished: tag('rf'),
        onL1KeysDeleted: tag('del'),
        onL1KeysWriteAborted: tag('abort'),
      });
      m.reserveWrite([key(1), key(2)], layout1k);
      m.reserveWrite([key(1)], layout1k);
      m.finishWrite([key(1)]);
      m.abortWrite([key(2)]);
      m.reserveRead([key(1), key(2)]);
      m.finishRead([key(1)]);
      m.delete([key(1)]);
      off();
      put(m, [key(5)]);
      expect(events).to.deep.equal(['rw:1,2', 'wf:1', 'abort:2', 'rr:1', 'rf:1', 'del:1']);
    });

    it('temporary writes are not reported as finished writes', () => {
      const m = manager();
      const finished: number[] = [];
      m.addListener({ onL1KeysWriteFinished: (ks) => finished.push(ks.length) });
      m.reserveWrite([key(1)], layout1k, 'new', { temporary: true });
      m.finishWrite([key(1)]);
      expect(finished).to.deep.equal([]);
    });

    it('a throwing listener is isolated: the call succeeds and other listeners still run', () => {
      const m = manager();
      const seen: number[] = [];
      m.addListener({
        onL1KeysReservedWrite: () => {
          throw new Error('boom');
        },
        onL1KeysEvicted: () => {
          throw new Error('boom');
        },
      });
      m.addListener({ onL1KeysReservedWrite: (ks) => seen.push(ks.length) });
      expect(codes(m.reserveWrite([key(1)], layout1k))).to.deep.equal(['SUCCESS']);
      expect(seen).to.deep.equal([1]);
      expect(m.memcheck().ok).to.equal(true);
    });
  });

  describe('options and lifecycle', () => {
    it('names the offending option in configuration errors', () => {
      expect(() => new L1Manager({ capacityBytes: 0 })).to.throw(ConfigError, /l1\.capacityBytes/);
      expect(() => new L1Manager({ capacityBytes: 4096, alignBytes: 3 })).to.throw(ConfigError, /l1\.alignBytes/);
      expect(() => new L1Manager({ capacityBytes: 4096, triggerWatermark: 1.5 })).to.throw(ConfigError, /l1\.triggerWatermark/);
      expect(() => new L1Manager({ capacityBytes: 4096, evictionRatio: -1 })).to.throw(ConfigError, /l1\.evictionRatio/);
      expect(() => new L1Manager({ capacityBytes: 4096, writeLockTtlMs: 0 })).to.throw(ConfigError, /l1\.writeLockTtlMs/);
      expect(() => new L1Manager({ capacityBytes: 4096, eviction: 'mru' as 'lru' })).to.throw(ConfigError, /l1\.eviction/);
    });

    it('after close every call throws ClosedError', () => {
      const m = new L1Manager({ capacityBytes: 4096 });
      m.close();
      m.close();
      expect(() => m.reserveWrite([key(1)], layout1k)).to.throw(ClosedError, /reserveWrite/);
      expect(() => m.reserveRead([key(1)])).to.throw(ClosedError);
      expect(() => m.delete([key(1)])).to.throw(ClosedError);
    });

    it('usage reports bytes and objects by state', () => {
      const m = manager({ capacityBytes: 64 * KIB });
      put(m, keys(0, 3));
      m.reserveRead([key(0)]);
      m.reserveWrite([key(7)], MemoryLayout.bytes(100));
      expect(m.usage()).to.deep.equal({
        usedBytes: 3 * KIB + 256,
        capacityBytes: 64 * KIB,
        objects: 4,
        byState: { writeLocked: 1, ready: 2, readLocked: 1 },
        writeLockedBytes: 256,
        keyBytes: [0, 1, 2, 7].reduce((sum, n) => sum + keyChargeBytes(key(n)), 0),
        keyBytesLimit: 16 * MIB,
      });
    });

    it('spreads objects over several segments, each a view of its own buffer', () => {
      const m = manager({ capacityBytes: 16 * KIB, segmentBytes: 4 * KIB, triggerWatermark: 1 });
      const big = MemoryLayout.bytes(4 * KIB);
      const r = m.reserveWrite(keys(0, 4), big);
      expect(codes(r)).to.deep.equal(Array(4).fill('SUCCESS'));
      expect(new Set(r.map((x) => x.obj!.data.buffer)).size).to.equal(4);
      r.forEach((x, i) => x.obj!.data.fill(i + 1));
      m.finishWrite(keys(0, 4));
      // No object can span two segments.
      expect(codes(m.reserveWrite([key(9)], MemoryLayout.bytes(5 * KIB), 'new'))).to.deep.equal(['OUT_OF_MEMORY']);
      m.reserveRead(keys(0, 4)).forEach((x, i) => expect(x.obj!.data.every((b) => b === i + 1)).to.equal(true));
      expect(m.memcheck().problems).to.deep.equal([]);
    });

    it('usage after close reports nothing held', () => {
      const m = new L1Manager({ capacityBytes: 4096 });
      m.reserveWrite([key(1)], layout1k);
      m.close();
      expect(m.usage()).to.deep.include({ usedBytes: 0, objects: 0 });
    });

    it('allocations are aligned', () => {
      const m = manager({ alignBytes: 512 });
      const r = m.reserveWrite(keys(0, 5), MemoryLayout.bytes(100));
      for (const x of r) expect(x.obj!.data.byteOffset % 512).to.equal(0);
    });

    it('a listener counts as an argument error when not an object', () => {
      const m = manager();
      expect(() => m.addListener(null as unknown as L1Listener)).to.throw(InvalidArgumentError);
    });
  });
});
