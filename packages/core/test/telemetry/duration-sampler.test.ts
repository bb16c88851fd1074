import { expect } from 'chai';
import { createNoopMeter } from '@opentelemetry/api';
import { DurationSampler, isNoopHistogram } from '@tierkv/core';
import { createTestMeterProvider } from '@tierkv/test-utils';

describe('DurationSampler', () => {
  it('times the first call of each operation, skips the rest until the interval passes', async () => {
    const sampler = new DurationSampler(2, 5);
    try {
      expect(sampler.start(0)).to.be.greaterThan(0);
      expect(sampler.start(0)).to.equal(0);
      expect(sampler.start(1)).to.be.greaterThan(0);
      await new Promise((r) => setTimeout(r, 20));
      expect(sampler.start(0)).to.be.greaterThan(0);
    } finally {
      sampler.close();
    }
  });

  it('tells the API no-op histogram from an SDK one', async () => {
    expect(isNoopHistogram(createNoopMeter().createHistogram('x'))).to.equal(true);
    const p = createTestMeterProvider();
    expect(isNoopHistogram(p.meterProvider.getMeter('t').createHistogram('x'))).to.equal(false);
    await p.shutdown();
  });
});
