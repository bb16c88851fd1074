import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { MemoryLayout, refreshTelemetryBindings } from '@tierkv/core';
import { createTestMeterProvider, histogramSumOf, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { L1Manager } from '../../src/l1/l1-manager.js';
import { FakeClock, KIB, key, keys, layout1k } from './helpers.js';

describe('L1Manager metrics', () => {
  const providers: TestMeterProvider[] = [];
  const managers: L1Manager[] = [];
  const provider = () => {
    const p = createTestMeterProvider();
    providers.push(p);
    return p;
  };
  const track = (m: L1Manager) => {
    managers.push(m);
    return m;
  };

  afterEach(async () => {
    managers.splice(0).forEach((m) => m.close());
    metrics.disable();
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  });

  it('counts equal the operations performed', async () => {
    const { meterProvider, collect } = provider();
    const clock = new FakeClock();
    const m = track(new L1Manager({ capacityBytes: 8 * KIB, triggerWatermark: 1, lockSweepIntervalMs: 0, now: clock.now, writeLockTtlMs: 100 }, { meterProvider }));
    m.addListener({
      onL1KeysDeleted: () => {
        throw new Error('listener bug');
      },
    });
    m.reserveWrite(keys(0, 4), layout1k); // reserve_write #1
    m.finishWrite(keys(0, 4)); // 4 writes
    m.reserveRead([key(0), key(1), key(9)]); // 2 locks, 1 miss (not_found)
    m.reserveWrite([key(7)], layout1k); // reserve_write #2
    m.reserveRead([key(7)]); // miss (write_locked)
    m.finishRead([key(0), key(1)]); // 2 reads
    m.reserveRead([key(2)]); // read-locked now
    m.delete([key(3)]); // 1 deleted, listener throws once
    m.reserveWrite(keys(10, 5), layout1k); // 8 KiB arena holds 4 objects (5 KiB): 1 on-demand eviction → OK
    m.reserveWrite([key(20)], MemoryLayout.bytes(16 * KIB)); // OOM
    clock.advance(100); // key(7) and keys 10..14 write locks expire
    m.sweepExpiredLocks();
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.l1.write')).to.equal(4);
    expect(valueOf(rm, 'tierkv.l1.read')).to.equal(2);
    expect(valueOf(rm, 'tierkv.l1.read.misses', { 'tierkv.l1.miss.reason': 'not_found' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.read.misses', { 'tierkv.l1.miss.reason': 'write_locked' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.deleted')).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.listener.errors')).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.allocation.failures')).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.evicted', { 'tierkv.l1.eviction.reason': 'on_demand' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.eviction.runs', { 'tierkv.l1.eviction.reason': 'on_demand' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.evicted', { 'tierkv.l1.eviction.reason': 'lock_expired' })).to.equal(6);
    expect(valueOf(rm, 'tierkv.l1.lock.expired', { 'tierkv.l1.lock.type': 'write' })).to.equal(6);
    expect(valueOf(rm, 'tierkv.l1.lock.expired', { 'tierkv.l1.lock.type': 'read' })).to.equal(0);
    expect(valueOf(rm, 'tierkv.l1.memory.limit')).to.equal(8 * KIB);
    expect(valueOf(rm, 'tierkv.l1.memory.used')).to.equal(m.usage().usedBytes);
    expect(valueOf(rm, 'tierkv.l1.objects', { 'tierkv.l1.object.state': 'read_locked' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.objects', { 'tierkv.l1.object.state': 'ready' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.objects', { 'tierkv.l1.object.state': 'write_locked' })).to.equal(0);
    expect(valueOf(rm, 'tierkv.l1.memory.write_locked')).to.equal(0);
    // Every call counted once, not per key; durations are sampled per call (at least the first).
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'reserve_write' })).to.equal(4);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'reserve_read' })).to.equal(3);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'finish_write' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'finish_read' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'delete' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'abort_write' })).to.equal(0);
    for (const operation of ['reserve_write', 'reserve_read', 'finish_write', 'finish_read', 'delete']) {
      const timed = valueOf(rm, 'tierkv.l1.batch.duration', { 'tierkv.l1.operation': operation })!;
      expect(timed, operation).to.be.at.least(1);
      expect(timed, operation).to.be.at.most(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': operation })!);
    }
  });

  it('reports the bytes held by write-locked objects', async () => {
    const { meterProvider, collect } = provider();
    const m = track(new L1Manager({ capacityBytes: 64 * KIB, lockSweepIntervalMs: 0 }, { meterProvider }));
    m.reserveWrite(keys(0, 3), layout1k);
    m.finishWrite([key(0)]);
    m.reserveWrite([key(9)], MemoryLayout.bytes(100));
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.l1.memory.write_locked')).to.equal(2 * KIB + 256);
    expect(valueOf(rm, 'tierkv.l1.memory.used')).to.equal(3 * KIB + 256);
  });

  it('records the lifetime and idle time of sampled evicted chunks (injected clock)', async () => {
    const { meterProvider, collect } = provider();
    const clock = new FakeClock();
    const m = track(new L1Manager({ capacityBytes: 2 * KIB, triggerWatermark: 1, lockSweepIntervalMs: 0, now: clock.now }, { meterProvider }));
    m.reserveWrite([key(1)], layout1k);
    clock.advance(500);
    m.finishWrite([key(1)]); // written at +0.5 s
    m.reserveWrite([key(2)], layout1k);
    m.finishWrite([key(2)]);
    clock.advance(2000);
    m.reserveRead([key(1)]);
    m.finishRead([key(1)]); // key 1 last used at +2.5 s; key 2 is now the coldest
    m.reserveRead([key(2)]);
    clock.advance(1000);
    m.finishRead([key(2)]); // key 2 used at +3.5 s, so key 1 is the coldest again
    clock.advance(6500);
    m.reserveWrite([key(3)], layout1k); // evicts key 1 on demand at +10 s
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.l1.chunk.lifetime')).to.equal(1);
    expect(histogramSumOf(rm, 'tierkv.l1.chunk.lifetime')).to.equal(9.5);
    expect(histogramSumOf(rm, 'tierkv.l1.chunk.idle')).to.equal(7.5);
    // The first finished read is sampled: key 1, written at +0.5 s, released at +2.5 s.
    expect(valueOf(rm, 'tierkv.l1.chunk.reuse_gap')).to.equal(1);
    expect(histogramSumOf(rm, 'tierkv.l1.chunk.reuse_gap')).to.equal(2);
    // Key 1 comes back 4 s after its eviction.
    m.abortWrite([key(3)]);
    clock.advance(4000);
    m.reserveWrite([key(1)], layout1k);
    m.finishWrite([key(1)]);
    const rm2 = await collect();
    expect(valueOf(rm2, 'tierkv.l1.chunk.evict_reuse_gap')).to.equal(1);
    expect(histogramSumOf(rm2, 'tierkv.l1.chunk.evict_reuse_gap')).to.equal(4);
  });

  it('two managers on one provider report the sum', async () => {
    const { meterProvider, collect } = provider();
    const a = track(new L1Manager({ capacityBytes: 4 * KIB, lockSweepIntervalMs: 0 }, { meterProvider }));
    const b = track(new L1Manager({ capacityBytes: 8 * KIB, lockSweepIntervalMs: 0 }, { meterProvider }));
    a.reserveWrite([key(1)], layout1k);
    a.finishWrite([key(1)]);
    b.reserveWrite([key(1)], layout1k);
    b.finishWrite([key(1)]);
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.l1.write')).to.equal(2);
    expect(valueOf(rm, 'tierkv.l1.memory.limit')).to.equal(12 * KIB);
  });

  it('late binding: a manager created before the global provider exports once it is set', async () => {
    const m = track(new L1Manager({ capacityBytes: 4 * KIB, lockSweepIntervalMs: 0 }));
    m.reserveWrite([key(1)], layout1k);
    m.finishWrite([key(1)]);
    const { meterProvider, collect } = provider();
    metrics.setGlobalMeterProvider(meterProvider);
    refreshTelemetryBindings();
    m.reserveRead([key(1)]);
    m.finishRead([key(1)]);
    const rm = await collect();
    // Observable counts include what happened before the provider existed.
    expect(valueOf(rm, 'tierkv.l1.write')).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.read')).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.batch.duration', { 'tierkv.l1.operation': 'finish_read' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'finish_write' })).to.equal(1);
  });

  it('times at most one call per operation and millisecond, and every call again after a pause', async () => {
    const { meterProvider, collect } = provider();
    const m = track(new L1Manager({ capacityBytes: 64 * KIB, lockSweepIntervalMs: 0 }, { meterProvider }));
    m.reserveWrite([key(1)], layout1k);
    m.finishWrite([key(1)]);
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < 0.5) {
      m.reserveRead([key(1)]);
      m.finishRead([key(1)]);
      calls++;
    }
    await new Promise((r) => setTimeout(r, 5));
    m.reserveRead([key(1)]);
    const rm = await collect();
    const timed = valueOf(rm, 'tierkv.l1.batch.duration', { 'tierkv.l1.operation': 'reserve_read' })!;
    expect(valueOf(rm, 'tierkv.l1.batches', { 'tierkv.l1.operation': 'reserve_read' })).to.equal(calls + 1);
    expect(timed).to.be.at.least(2);
    expect(timed).to.be.at.most(calls + 1);
  });

  it('a closed manager stops reporting', async () => {
    const { meterProvider, collect } = provider();
    const m = new L1Manager({ capacityBytes: 4 * KIB, lockSweepIntervalMs: 0 }, { meterProvider });
    m.reserveWrite([key(1)], layout1k);
    m.close();
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.l1.memory.limit') ?? 0).to.equal(0);
  });
});
