import { expect } from 'chai';
import { objectKey, type ObjectKey } from '@tierkv/core';
import { createTestMeterProvider, findMetric, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import type { StorageManager } from '../../src/manager/storage-manager.js';
import { closeAll, layout, manager } from './helpers.js';

/** One L1-hit prefetch of `keys`, read and released: it settles synchronously, inside the caller's millisecond. */
function prefetchOnce(sm: StorageManager, keys: readonly ObjectKey[]): void {
  sm.submitPrefetch(keys, layout);
  expect(sm.readPrefetched(keys)).to.have.length(keys.length);
  sm.finishReadPrefetched(keys);
}

function writeKeys(sm: StorageManager, keys: readonly ObjectKey[]): void {
  sm.reserveWrite(keys, layout);
  sm.finishWrite(keys);
}

// tierkv.storage.prefetch.duration times at most one prefetch per millisecond (per model and salt
// pair when perModelAttributes is on), as the L1 and L2 duration histograms do; the counters stay exact.
describe('StorageManager prefetch duration sampling', () => {
  let tmp: TestMeterProvider;
  beforeEach(() => (tmp = createTestMeterProvider()));
  afterEach(async () => {
    await closeAll();
    await tmp.shutdown();
  });

  it('times one prefetch of a synchronous burst, counts them all, and times again once the interval passed', async () => {
    const sm = manager({ meterProvider: tmp.meterProvider });
    const keys = [objectKey('00000000000000a1', 'm'), objectKey('00000000000000a2', 'm')];
    writeKeys(sm, keys);
    // No timer can fire inside this loop, so the sampler is never re-armed during it.
    for (let i = 0; i < 50; i++) prefetchOnce(sm, keys);
    let rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.storage.prefix_lookup.requests')).to.equal(50);
    expect(valueOf(rm, 'tierkv.storage.prefetch.duration')).to.equal(1);
    // Once the sampler re-armed (a timer turn later), the next prefetch is timed again.
    let submitted = 50;
    await waitFor(async () => {
      prefetchOnce(sm, keys);
      submitted++;
      rm = await tmp.collect();
      return (valueOf(rm, 'tierkv.storage.prefetch.duration') ?? 0) >= 2;
    }, 'a second timed prefetch');
    expect(valueOf(rm, 'tierkv.storage.prefix_lookup.requests')).to.equal(submitted);
  });

  it('with perModelAttributes, samples each (model, salt) pair on its own: a rare tenant is not crowded out', async () => {
    const sm = manager({ meterProvider: tmp.meterProvider, perModelAttributes: { limit: 2 } });
    const busy = [objectKey('00000000000000b1', 'llama', 0, 'busy')];
    const rare = [objectKey('00000000000000b2', 'llama', 0, 'rare')];
    const third = [objectKey('00000000000000b3', 'qwen', 0, 'x')];
    const fourth = [objectKey('00000000000000b4', 'qwen', 0, 'y')];
    for (const k of [busy, rare, third, fourth]) writeKeys(sm, k);
    for (let i = 0; i < 20; i++) prefetchOnce(sm, busy);
    prefetchOnce(sm, rare);
    // Past the limit of 2 pairs both share the _OTHER slot: one timed between them.
    prefetchOnce(sm, third);
    prefetchOnce(sm, fourth);
    const rm = await tmp.collect();
    const points = (findMetric(rm, 'tierkv.storage.prefetch.duration')?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: { count: number } }[];
    const counts = Object.fromEntries(points.map((p) => [String(p.attributes['tierkv.cache.salt']), p.value.count]));
    expect(counts).to.deep.equal({ busy: 1, rare: 1, _OTHER: 1 });
    expect(valueOf(rm, 'tierkv.storage.prefix_lookup.requests')).to.equal(23);
  });
});
