import { expect } from 'chai';
import { ClosedError, MemoryLayout, metricDefinition, objectKey, type ObjectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import type { L2Adapter } from '../../src/l2/l2-adapter.js';
import { L2_FAILURE_REASONS, type L2FailureReasons } from '../../src/l2/l2-failure.js';
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
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, 'tierkv.l2.operation': 'store' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, 'tierkv.l2.operation': 'lookup' })).to.equal(3);
    expect(valueOf(rm, 'tierkv.l2.failures', { ...attrs, 'tierkv.l2.operation': 'load' })).to.equal(1);
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
    const attrs = { 'tierkv.l2.adapter': 'memory', 'tierkv.l2.operation': 'store' };
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

  it('counts failures by the reason the adapter reports, `other` without one, and classifies rejections', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    let rejectWith: unknown;
    const inner: L2Adapter = {
      name: 'reasons',
      store: async (items, reasons?: L2FailureReasons) => {
        if (rejectWith) throw rejectWith;
        if (reasons) {
          reasons[0] = 'no_space';
          (reasons as unknown[])[1] = '/some/path'; // outside the closed set: counted as other
        }
        return items.map((_, i) => i >= 3);
      },
      lookupAndLock: async (keys) => keys.map(() => false),
      load: async (keys) => keys.map(() => false), // reports no reason
      unlock: async () => undefined,
      delete: async (keys) => keys.map(() => false),
      usage: () => ({ usedBytes: 0, capacityBytes: undefined, objects: 0 }),
      close: async () => undefined,
    };
    const a = new InstrumentedL2Adapter(inner, { meterProvider });
    expect(await a.store([1, 2, 3, 4].map((i) => item(k(i))))).to.deep.equal([false, false, false, true]);
    await a.load([k(1)], [new Uint8Array(8)]);
    rejectWith = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    await a.store([item(k(5)), item(k(6))]);
    rejectWith = new Error('backend down');
    await a.store([item(k(7))]);
    const rm = await collect();
    const f = (operation: string, reason: string) => valueOf(rm, 'tierkv.l2.failures', { 'tierkv.l2.adapter': 'reasons', 'tierkv.l2.operation': operation, 'tierkv.l2.failure.reason': reason });
    expect(f('store', 'no_space')).to.equal(1 + 2);
    expect(f('store', 'other')).to.equal(2);
    expect(f('store', 'rejected')).to.equal(1);
    expect(f('load', 'other')).to.equal(1);
    // Every point carries a reason from the closed set.
    const points = rm.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === 'tierkv.l2.failures').flatMap((m) => m.dataPoints as { attributes: Record<string, unknown> }[]);
    for (const p of points) expect(L2_FAILURE_REASONS as readonly unknown[]).to.include(p.attributes['tierkv.l2.failure.reason']);
    await a.close();
    await shutdown();
  });

  it('the catalog lists exactly L2_FAILURE_REASONS as the reason values', () => {
    const reason = metricDefinition('tierkv.l2.failures').attributes.find((x) => x.name === 'tierkv.l2.failure.reason');
    expect(reason?.values).to.deep.equal([...L2_FAILURE_REASONS]);
  });
});
