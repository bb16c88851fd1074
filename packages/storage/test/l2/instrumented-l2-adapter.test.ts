import { expect } from 'chai';
import { ClosedError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import type { L2Adapter } from '../../src/l2/l2-adapter.js';
import { InstrumentedL2Adapter } from '../../src/l2/instrumented-l2-adapter.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { registerL2AdapterSuite } from '../../src/testing/l2-adapter-suite.js';

registerL2AdapterSuite('InstrumentedL2Adapter(MemoryL2Adapter)', () => new InstrumentedL2Adapter(new MemoryL2Adapter()), {
  createWithBudget: (capacityBytes) => new InstrumentedL2Adapter(new MemoryL2Adapter({ capacityBytes })),
});

describe('InstrumentedL2Adapter', () => {
  const k = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'inst');
  const item = (key: ObjectKey) => ({ key, layout: MemoryLayout.bytes(8), data: new Uint8Array(8) });

  it('turns a rejected batch into per-key failures, counted and reported', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const broken: L2Adapter = {
      name: 'broken',
      store: async () => {
        throw new Error('backend down');
      },
      lookupAndLock: async () => {
        throw new Error('backend down');
      },
      load: async () => [true], // wrong length for two keys: repaired, the missing answer is a failure
      unlock: async () => undefined,
      delete: async () => [true, true],
      usage: () => ({ usedBytes: 0, capacityBytes: undefined, objects: 0 }),
      close: async () => undefined,
    };
    const a = new InstrumentedL2Adapter(broken, { meterProvider });
    const failed: [string, number][] = [];
    a.addListener({ onL2KeysFailed: (_n, op, keys) => failed.push([op, keys.length]) });
    expect(await a.store([item(k(1)), item(k(2))])).to.deep.equal([false, false]);
    expect(await a.lookupAndLock([k(1), k(2), k(3)])).to.deep.equal([false, false, false]);
    expect(await a.load([k(1), k(2)], [new Uint8Array(8), new Uint8Array(8)])).to.deep.equal([true, false]);
    const rm = await collect();
    const attrs = { 'tierkv.l2.adapter': 'broken' };
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, operation: 'store' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, operation: 'lookup' })).to.equal(3);
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, operation: 'load' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.loaded', attrs)).to.equal(1);
    expect(failed).to.deep.equal([
      ['store', 2],
      ['lookup', 3],
      ['load', 1],
    ]);
    await a.close();
    await shutdown();
  });

  it('counts every call exactly and samples the duration histogram', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const a = new InstrumentedL2Adapter(new MemoryL2Adapter(), { meterProvider });
    for (let i = 0; i < 50; i++) await a.store([item(k(i))]);
    const rm = await collect();
    const attrs = { 'tierkv.l2.adapter': 'memory', operation: 'store' };
    expect(valueOf(rm, 'tierkv.l2.operations', attrs)).to.equal(50);
    const timed = valueOf(rm, 'tierkv.l2.operation.duration', attrs);
    expect(timed).to.be.at.least(1);
    expect(timed).to.be.at.most(50);
    await a.close();
    await shutdown();
  });

  it('lets ClosedError through (shutdown is not a tier failure)', async () => {
    const inner = new MemoryL2Adapter();
    const a = new InstrumentedL2Adapter(inner);
    await a.close();
    const err = await a.store([item(k(1))]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ClosedError);
  });

  it('isolates and counts a throwing listener', async () => {
    const a = new InstrumentedL2Adapter(new MemoryL2Adapter());
    a.addListener({
      onL2KeysStored: () => {
        throw new Error('bug');
      },
    });
    expect(await a.store([item(k(1))])).to.deep.equal([true]);
    expect(a.listenerErrors).to.equal(1);
    await a.close();
  });
});
