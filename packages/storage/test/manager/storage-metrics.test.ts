import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { refreshTelemetryBindings } from '@tierkv/core';
import { createTestMeterProvider, histogramSumOf, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import { KIB, closeAll, key, keys, layout, manager, write } from './helpers.js';

describe('StorageManager metrics', () => {
  let tmp: TestMeterProvider | undefined;
  afterEach(async () => {
    await closeAll();
    await tmp?.shutdown();
    tmp = undefined;
  });

  it('count exactly the operations performed', async () => {
    tmp = createTestMeterProvider();
    const { meterProvider, collect } = tmp;
    const l2 = new MemoryL2Adapter();
    const sm = manager({ l2: [l2], meterProvider, chunkTokens: 16, l1: { capacityBytes: 6 * KIB } as never });
    // 2 reserveWrite calls: 4 keys fit, then 3 more of which 2 fit (6 KiB L1, 1 KiB objects).
    write(sm, [0, 1, 2, 3]);
    const objs = sm.reserveWrite(keys([4, 5, 6]), layout);
    const reserved = keys([4, 5, 6]).filter((_, i) => objs[i]);
    sm.abortWrite(reserved);
    await sm.flush();
    // Prefix lookups: L1 hits 0..3; after dropping 2..3 from L1 they come from L2.
    sm.finishReadPrefetched(keys([0, 1, 2, 3]).slice(0, 0));
    const h1 = sm.submitPrefetch(keys([0, 1, 2, 3, 9]), layout); // 4 from L1, miss at 9
    expect(await sm.waitPrefetch(h1)).to.equal(4);
    sm.finishReadPrefetched(keys([0, 1, 2, 3]));
    sm.l1.delete(keys([2, 3]));
    const h2 = sm.submitPrefetch(keys([0, 1, 2, 3]), layout); // 2 from L1, 2 from L2
    expect(await sm.waitPrefetch(h2)).to.equal(4);
    expect(sm.readPrefetched(keys([0, 1, 2, 3]))).to.have.length(4);
    expect(sm.readPrefetched(keys([0, 7]))).to.equal(undefined); // releases key 0's lock
    sm.finishReadPrefetched(keys([1, 2, 3]));

    const rm = await collect();
    const v = (name: string, attrs = {}) => valueOf(rm, name, attrs);
    expect(v('tierkv.storage.write.requests')).to.equal(2);
    expect(v('tierkv.storage.write.succeeded_keys')).to.equal(4 + reserved.length);
    expect(v('tierkv.storage.write.failed_keys')).to.equal(3 - reserved.length);
    expect(v('tierkv.storage.prefix_lookup.requests')).to.equal(2);
    expect(v('tierkv.storage.prefix_lookup.requested_chunks')).to.equal(9);
    expect(v('tierkv.storage.prefix_lookup.requested_tokens')).to.equal(9 * 16);
    expect(v('tierkv.storage.prefix_lookup.hit_chunks', { 'tierkv.storage.tier': 'l1' })).to.equal(6);
    expect(v('tierkv.storage.prefix_lookup.hit_chunks', { 'tierkv.storage.tier': 'l2' })).to.equal(2);
    expect(v('tierkv.storage.prefix_lookup.hit_tokens', { 'tierkv.storage.tier': 'l2' })).to.equal(32);
    expect(v('tierkv.storage.read.requests')).to.equal(2);
    expect(v('tierkv.storage.read.succeeded_keys')).to.equal(5);
    expect(v('tierkv.storage.read.failed_keys')).to.equal(1);
    expect(v('tierkv.storage.prefetch.active')).to.equal(0);
    expect(v('tierkv.storage.store_queue.depth')).to.equal(0);
    // The duration histogram is sampled (prefix_lookup.requests above counts every prefetch).
    expect(v('tierkv.storage.prefetch.duration')).to.be.within(1, 2);
    expect(histogramSumOf(rm, 'tierkv.storage.prefetch.duration')).to.be.greaterThan(0);
    const a = { 'tierkv.l2.adapter': 'memory' };
    expect(v('tierkv.l2.stored', a)).to.equal(4);
    expect(v('tierkv.l2.bytes', { ...a, 'tierkv.l2.direction': 'in' })).to.equal(4 * KIB);
    expect(v('tierkv.l2.loaded', a)).to.equal(2);
    expect(v('tierkv.l2.bytes', { ...a, 'tierkv.l2.direction': 'out' })).to.equal(2 * KIB);
    expect(v('tierkv.l2.lookups', { ...a, 'tierkv.l2.lookup.result': 'hit' })).to.equal(2);
    expect(v('tierkv.l2.lookups', { ...a, 'tierkv.l2.lookup.result': 'miss' })).to.equal(1);
    expect(v('tierkv.l2.operations', { ...a, 'tierkv.l2.operation': 'store' })).to.equal(1);
    expect(v('tierkv.l2.operations', { ...a, 'tierkv.l2.operation': 'load' })).to.equal(1);
    expect(v('tierkv.l2.failures', a)).to.equal(0);
    expect(v('tierkv.l2.objects', a)).to.equal(4);
    expect(v('tierkv.l2.usage', a)).to.equal(4 * KIB);
    expect(v('tierkv.l2.inflight', a)).to.equal(0);
    // The duration histogram is sampled (tierkv.l2.operations above counts every call exactly).
    expect(v('tierkv.l2.operation.duration', { ...a, 'tierkv.l2.operation': 'store' })).to.be.at.least(1);
    expect(histogramSumOf(rm, 'tierkv.l2.operation.duration', a)).to.be.greaterThan(0);
  });

  it('counts dropped write-throughs, L2 failures and listener errors', async () => {
    tmp = createTestMeterProvider();
    const { meterProvider, collect } = tmp;
    const faulty = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 7 });
    faulty.faults.store.delay(5, 5);
    const sm = manager({ l2: [faulty], meterProvider, storeQueueLimit: 1, storeConcurrency: 1, storeBatchSize: 1, storeBacklogPolicy: 'skip_l2' });
    sm.addListener({
      onSmWriteFinished: () => {
        throw new Error('listener bug');
      },
      onL2KeysStored: () => {
        throw new Error('l2 listener bug');
      },
    });
    for (let i = 0; i < 5; i++) write(sm, [i]);
    await sm.flush();
    const stored = faulty.inner.usage().objects;
    faulty.faults.store.never().alwaysFail();
    write(sm, [10, 11]);
    await sm.flush();
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.storage.store.dropped')).to.equal(5 - stored);
    expect(valueOf(rm, 'tierkv.l2.failures', { 'tierkv.l2.operation': 'store' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.storage.listener_errors', { 'tierkv.storage.listener': 'storage' })).to.equal(6);
    expect(valueOf(rm, 'tierkv.storage.listener_errors', { 'tierkv.storage.listener': 'l2' })).to.equal(stored);
  });

  it('late binding: a manager created before the global MeterProvider exports once it is registered', async () => {
    const sm = manager({ l2: [new MemoryL2Adapter()] });
    write(sm, [0, 1]);
    await sm.flush();
    tmp = createTestMeterProvider();
    expect(metrics.setGlobalMeterProvider(tmp.meterProvider)).to.equal(true);
    try {
      refreshTelemetryBindings();
      write(sm, [2]);
      const rm = await tmp.collect();
      expect(valueOf(rm, 'tierkv.storage.write.requests')).to.equal(2);
      expect(valueOf(rm, 'tierkv.l2.stored', { 'tierkv.l2.adapter': 'memory' })).to.equal(2);
    } finally {
      metrics.disable();
      refreshTelemetryBindings();
    }
    void key;
  });
});
