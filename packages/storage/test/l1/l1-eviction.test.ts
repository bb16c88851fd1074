import { expect } from 'chai';
import { MemoryLayout, type ObjectKey } from '@tierkv/core';
import type { EvictionPolicy, SlotId } from '../../src/eviction/eviction-policy.js';
import type { EvictionReason } from '../../src/l1/l1-listener.js';
import { KIB, closeAll, codes, key, keys, layout1k, manager, put } from './helpers.js';

const ids = (ks: readonly ObjectKey[]) => ks.map((k) => parseInt(k.chunkHash, 16));

describe('L1Manager eviction', () => {
  afterEach(closeAll);

  function recorder() {
    const events: [number[], EvictionReason][] = [];
    return { events, listener: { onL1KeysEvicted: (ks: readonly ObjectKey[], reason: EvictionReason) => events.push([ids(ks), reason]) } };
  }

  it('on demand: a full arena evicts least recently used objects to make room', () => {
    // Watermark 1.0: only on-demand eviction runs.
    const m = manager({ capacityBytes: 8 * KIB, triggerWatermark: 1 });
    const { events, listener } = recorder();
    m.addListener(listener);
    put(m, keys(0, 8));
    // Use 0 and 1 (read → released), so 2 and 3 are the coldest.
    for (const k of [key(0), key(1)]) {
      m.reserveRead([k]);
      m.finishRead([k]);
    }
    expect(codes(m.reserveWrite([key(100), key(101)], layout1k))).to.deep.equal(['SUCCESS', 'SUCCESS']);
    expect(events).to.deep.equal([[[2, 3], 'on_demand']]);
    expect(m.contains(keys(0, 8))).to.deep.equal([true, true, false, false, true, true, true, true]);
    expect(m.memcheck().problems).to.deep.equal([]);
  });

  it('touch counts as a use', () => {
    const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1 });
    put(m, keys(0, 4));
    m.touch([key(0)]);
    m.reserveWrite([key(9)], layout1k);
    expect(m.contains(keys(0, 4))).to.deep.equal([true, false, true, true]);
  });

  it('never evicts locked objects; OOM when only locked objects remain', () => {
    const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1 });
    const { events, listener } = recorder();
    m.addListener(listener);
    put(m, keys(0, 3));
    m.reserveRead([key(0), key(1)]);
    m.reserveWrite([key(3)], layout1k); // write-locked
    // Room for one: key(2) is the only evictable object.
    expect(codes(m.reserveWrite([key(10)], layout1k))).to.deep.equal(['SUCCESS']);
    expect(events).to.deep.equal([[[2], 'on_demand']]);
    expect(codes(m.reserveWrite([key(11)], layout1k))).to.deep.equal(['OUT_OF_MEMORY']);
    expect(m.contains([key(0), key(1)])).to.deep.equal([true, true]);
    expect(m.inspect(key(3))).to.include({ state: 'write_locked' });
    expect(m.memcheck().problems).to.deep.equal([]);
  });

  it('does not evict anything when eviction could not make enough room', () => {
    const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1 });
    put(m, keys(0, 2));
    m.reserveRead([key(0)]);
    // Needs 4 KiB; free 2 KiB + evictable 1 KiB is not enough: nothing is evicted.
    expect(codes(m.reserveWrite([key(9)], MemoryLayout.bytes(4 * KIB)))).to.deep.equal(['OUT_OF_MEMORY']);
    expect(m.contains([key(1)])).to.deep.equal([true]);
  });

  it('watermark: after a write passes the trigger, evicts evictionRatio of capacity below it', () => {
    const m = manager({ capacityBytes: 10 * KIB, triggerWatermark: 0.5, evictionRatio: 0.2 });
    const { events, listener } = recorder();
    m.addListener(listener);
    put(m, keys(0, 5)); // 5 KiB = the trigger exactly: nothing happens
    expect(events).to.deep.equal([]);
    // Writing key 5 takes usage to 6 KiB > 5 KiB: free 1 KiB + 2 KiB (ratio) = 3 objects, coldest first.
    m.reserveWrite([key(5)], layout1k);
    expect(events).to.deep.equal([[[0, 1, 2], 'watermark']]);
    expect(m.usage().usedBytes).to.equal(3 * KIB);
    expect(m.memcheck().problems).to.deep.equal([]);
  });

  it('watermark eviction skips locked objects', () => {
    const m = manager({ capacityBytes: 10 * KIB, triggerWatermark: 0.5, evictionRatio: 0 });
    const { events, listener } = recorder();
    m.addListener(listener);
    put(m, keys(0, 5));
    m.reserveRead([key(0), key(1)]);
    m.reserveWrite([key(5)], layout1k);
    expect(events).to.deep.equal([[[2], 'watermark']]);
  });

  for (const eviction of ['clock', 'lru'] as const) {
    it(`${eviction}: read-locked objects stay in the policy and are passed over, however cold`, () => {
      const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1, eviction });
      const { events, listener } = recorder();
      m.addListener(listener);
      put(m, keys(0, 4));
      // 0 and 1, the coldest, are read-locked (one by a single-key call); each holds its bytes.
      const held = [m.reserveReadOne(key(0)).obj!, m.reserveRead([key(1)])[0]!.obj!];
      held.forEach((o, i) => o.data.fill(0xa0 + i));
      expect(m.usage().byState).to.deep.equal({ writeLocked: 0, ready: 2, readLocked: 2 });
      expect(codes(m.reserveWrite(keys(10, 2), layout1k))).to.deep.equal(['SUCCESS', 'SUCCESS']);
      expect(events).to.deep.equal([[[2, 3], 'on_demand']]);
      // Only locked objects left: nothing more can be evicted.
      expect(codes(m.reserveWrite([key(12)], layout1k))).to.deep.equal(['OUT_OF_MEMORY']);
      held.forEach((o, i) => expect(o.data.every((b) => b === 0xa0 + i)).to.equal(true));
      expect(m.memcheck().problems).to.deep.equal([]);
      // Released, they are evictable again (a release is a use, so the unread new keys go first).
      m.finishWrite(keys(10, 2));
      m.finishReadOne(key(0));
      m.finishRead([key(1)]);
      expect(codes(m.reserveWrite([key(12)], layout1k))).to.deep.equal(['SUCCESS']);
      expect(m.contains([key(0), key(1)])).to.deep.equal([true, true]);
      expect(m.memcheck().problems).to.deep.equal([]);
    });
  }

  it('never evicts a locked object a policy offers against `evictable`', () => {
    // A policy that ignores `evictable` and always offers the oldest object it holds.
    class FifoIgnoringLocks implements EvictionPolicy {
      readonly name = 'fifo-ignoring-locks';
      readonly #order: SlotId[] = [];
      get size() {
        return this.#order.length;
      }
      resize() {}
      onInsert(slot: SlotId) {
        if (!this.#order.includes(slot)) this.#order.push(slot);
      }
      onAccess() {}
      onRemove(slot: SlotId) {
        const i = this.#order.indexOf(slot);
        if (i >= 0) this.#order.splice(i, 1);
      }
      coldest(): SlotId | -1 {
        return this.#order.length > 0 ? this.#order[0]! : -1;
      }
      has(slot: SlotId) {
        return this.#order.includes(slot);
      }
      reset() {
        this.#order.length = 0;
      }
    }
    const m = manager({ capacityBytes: 2 * KIB, triggerWatermark: 1, eviction: new FifoIgnoringLocks() });
    put(m, keys(0, 2));
    const obj = m.reserveReadOne(key(0)).obj!;
    obj.data.fill(7);
    // The policy offers key 0 (read-locked): the write gets no memory rather than key 0's bytes.
    expect(codes(m.reserveWrite([key(5)], layout1k))).to.deep.equal(['OUT_OF_MEMORY']);
    expect(m.inspect(key(0))).to.include({ state: 'read_locked' });
    expect(obj.data.every((b) => b === 7)).to.equal(true);
    expect(m.memcheck().problems).to.deep.equal([]);
    m.finishReadOne(key(0));
    expect(codes(m.reserveWrite([key(5)], layout1k))).to.deep.equal(['SUCCESS']);
    expect(m.contains([key(0), key(1)])).to.deep.equal([false, true]);
  });

  it('takes any EvictionPolicy (here most recently used first)', () => {
    // A deliberately simple policy: an array, newest last; O(n) is fine for a test.
    class MruPolicy implements EvictionPolicy {
      readonly name = 'mru';
      readonly #order: SlotId[] = [];
      get size() {
        return this.#order.length;
      }
      resize() {}
      onInsert(slot: SlotId) {
        this.onRemove(slot);
        this.#order.push(slot);
      }
      onAccess(slot: SlotId) {
        this.onInsert(slot);
      }
      onRemove(slot: SlotId) {
        const i = this.#order.indexOf(slot);
        if (i >= 0) this.#order.splice(i, 1);
      }
      coldest(evictable?: (slot: SlotId) => boolean): SlotId | -1 {
        for (let i = this.#order.length - 1; i >= 0; i--) if (!evictable || evictable(this.#order[i]!)) return this.#order[i]!;
        return -1;
      }
      has(slot: SlotId) {
        return this.#order.includes(slot);
      }
      reset() {
        this.#order.length = 0;
      }
    }
    const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1, eviction: new MruPolicy() });
    put(m, keys(0, 4));
    m.reserveWrite([key(9)], layout1k);
    expect(m.contains(keys(0, 4))).to.deep.equal([true, true, true, false]);
    expect(m.memcheck().problems).to.deep.equal([]);
  });

  it("CLOCK (the default) approximates recency; eviction: 'lru' keeps its exact order", () => {
    // Every object read, 3 first and 0 last: LRU evicts 3, the least recent. CLOCK only knows that
    // all were used since its hand last passed: it clears their bits and takes the first it reaches.
    const victimWith = (eviction: 'clock' | 'lru'): number[] => {
      const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1, eviction });
      const { events, listener } = recorder();
      m.addListener(listener);
      put(m, keys(0, 4));
      for (const n of [3, 2, 1, 0]) {
        m.reserveReadOne(key(n));
        m.finishReadOne(key(n));
      }
      m.reserveWrite([key(9)], layout1k);
      expect(m.memcheck().problems).to.deep.equal([]);
      return events.flatMap(([ids]) => ids);
    };
    expect(manager().options.eviction).to.equal('clock');
    expect(victimWith('lru')).to.deep.equal([3]);
    expect(victimWith('clock')).to.deep.equal([0]);
  });

  it('one batch can evict several objects on demand', () => {
    const m = manager({ capacityBytes: 2 * KIB, triggerWatermark: 1 });
    put(m, keys(0, 2));
    expect(m.usage().objects).to.equal(2);
    const r = m.reserveWrite(keys(5, 2), layout1k);
    expect(codes(r)).to.deep.equal(['SUCCESS', 'SUCCESS']);
    expect(m.usage().objects).to.equal(2);
  });
});
