import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { MemoryLayout, metricDefinition, objectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { L1Manager } from '../../src/l1/l1-manager.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { StorageManager } from '../../src/manager/storage-manager.js';

const layout = MemoryLayout.bytes(1024);
const key = (n: number) => objectKey(n.toString(16).padStart(16, '0'), 'counters');

describe('regression: counters that go back (issue item 8)', () => {
  let provider: TestMeterProvider;
  beforeEach(() => (provider = createTestMeterProvider()));
  afterEach(async () => {
    metrics.disable();
    await provider.shutdown();
  });

  it('a closed instance keeps its counter totals: tierkv.l1.deleted summed over two managers never drops', async () => {
    const { meterProvider } = provider;
    const a = new L1Manager({ capacityBytes: 64 * 1024, lockSweepIntervalMs: 0 }, { meterProvider });
    const b = new L1Manager({ capacityBytes: 64 * 1024, lockSweepIntervalMs: 0 }, { meterProvider });
    for (const m of [a, b]) {
      m.reserveWrite([key(1)], layout);
      m.finishWrite([key(1)]);
      m.delete([key(1)]);
    }
    expect(valueOf(await provider.collect(), 'tierkv.l1.deleted')).to.equal(2);
    a.close();
    expect(valueOf(await provider.collect(), 'tierkv.l1.deleted')).to.equal(2);
    b.close();
    expect(valueOf(await provider.collect(), 'tierkv.l1.deleted')).to.equal(2);
  });

  it('closing a StorageManager before telemetry shutdown keeps its counters in the final export', async () => {
    const { meterProvider } = provider;
    const sm = new StorageManager({ l1: { capacityBytes: 64 * 1024, lockSweepIntervalMs: 0 }, l2: [new MemoryL2Adapter()], meterProvider });
    const objs = sm.reserveWrite([key(1), key(2)], layout);
    objs.forEach((o) => o!.data.fill(7));
    sm.finishWrite([key(1), key(2)]);
    await sm.flush();
    const before = await provider.collect();
    const counters = before.scopeMetrics.flatMap((s) => s.metrics).filter((m) => metricDefinition(m.descriptor.name).kind === 'observable_counter' && m.dataPoints.some((p) => typeof p.value === 'number' && p.value > 0));
    expect(counters.length).to.be.greaterThan(3);
    await sm.close();
    const after = await provider.collect();
    for (const m of counters) {
      for (const p of m.dataPoints) {
        expect(valueOf(after, m.descriptor.name, p.attributes), `${m.descriptor.name} ${JSON.stringify(p.attributes)} after close`).to.equal(p.value);
      }
    }
  });
});
