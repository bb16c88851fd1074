import { expect } from 'chai';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import type { L2Adapter } from '../../src/l2/l2-adapter.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import { FaultPlan } from '../../src/testing/fault-plan.js';
import { registerL2AdapterSuite } from '../../src/testing/l2-adapter-suite.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';

// With no faults planned, the wrapper is transparent: it passes the contract itself.
registerL2AdapterSuite('FaultyL2Adapter (no faults)', () => new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 1 }), {
  createWithBudget: (capacityBytes) => new FaultyL2Adapter(new MemoryL2Adapter({ capacityBytes }), { seed: 1 }),
});

describe('FaultyL2Adapter', () => {
  const k = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'faulty');
  const item = (key: ObjectKey, fill = 1) => ({ key, layout: MemoryLayout.bytes(32), data: new Uint8Array(32).fill(fill) });

  it('replays the same faults for the same seed', async () => {
    const run = async (seed: number) => {
      const f = new FaultyL2Adapter(new MemoryL2Adapter(), { seed });
      f.faults.store.failRate(0.5);
      const out = await f.store(Array.from({ length: 32 }, (_, i) => item(k(i))));
      await f.close();
      return out;
    };
    expect(await run(42)).to.deep.equal(await run(42));
    expect(await run(42)).to.not.deep.equal(await run(43));
  });

  it('switches faults on and off mid-run', async () => {
    const f = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 9 });
    f.faults.store.alwaysFail();
    const err = await f.store([item(k(1))]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.contain('seed=9');
    expect(f.injected.rejectedBatches).to.equal(1);
    f.faults.store.never();
    expect(await f.store([item(k(1))])).to.deep.equal([true]);
  });

  it('corrupts below the checksum of a verifying adapter: the load is a miss', async () => {
    const f = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 5 });
    await f.store([item(k(1), 3)]);
    f.faults.load.corruptRate(1);
    const target = new Uint8Array(32);
    expect(await f.load([k(1)], [target])).to.deep.equal([false]);
    expect(f.injected.corrupted).to.equal(1);
  });

  it('simulates detection for an adapter it cannot damage in storage', async () => {
    const inner = new MemoryL2Adapter();
    const opaque: L2Adapter = {
      name: 'opaque',
      store: (i) => inner.store(i),
      lookupAndLock: (ks) => inner.lookupAndLock(ks),
      load: (ks, ts) => inner.load(ks, ts),
      unlock: (ks) => inner.unlock(ks),
      delete: (ks) => inner.delete(ks),
      usage: () => inner.usage(),
      close: () => inner.close(),
    };
    const f = new FaultyL2Adapter(opaque, { seed: 5 });
    await f.store([item(k(1), 3)]);
    f.faults.load.corruptRate(1);
    expect(await f.load([k(1)], [new Uint8Array(32)])).to.deep.equal([false]);
    expect(f.injected.simulatedCorrupt).to.equal(1);
  });

  it('a per-key lookup failure takes no pin', async () => {
    const inner = new MemoryL2Adapter();
    const f = new FaultyL2Adapter(inner, { seed: 5 });
    await f.store([item(k(1))]);
    f.faults.lookup.failRate(1);
    expect(await f.lookupAndLock([k(1)])).to.deep.equal([false]);
    expect(inner.pinsOf(k(1))).to.equal(0);
  });

  it('validates plans and describes itself with its seed', () => {
    expect(() => new FaultPlan().failRate(2)).to.throw(RangeError);
    expect(() => new FaultPlan().delay(5, 1)).to.throw(RangeError);
    const f = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 77 });
    expect(f.describe()).to.contain('TIERKV_FAULT_SEED=77');
  });

  it('SeededRandom stays in range', () => {
    const r = new SeededRandom(3);
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).to.equal(true);
      const n = r.int(2, 4);
      expect(n >= 2 && n <= 4).to.equal(true);
    }
  });
});
