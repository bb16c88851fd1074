import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { InvalidArgumentError, MeterBinding, refreshTelemetryBindings, telemetryCallbackErrors } from '@tierkv/core';
import { createTestMeterProvider, findMetric, valueOf, type TestMeterProvider } from '@tierkv/test-utils';

const NAME = 'tierkv.telemetry.callback.errors';
const scope = { name: '@tierkv/core-test', version: '0.0.0' };

function observing(value: () => number, meterProvider?: TestMeterProvider['meterProvider']) {
  return new MeterBinding(scope, (f) => f.observe([NAME], (observe) => observe(NAME, value())), meterProvider ? { meterProvider } : {});
}

describe('MeterBinding', () => {
  const providers: TestMeterProvider[] = [];
  const bindings: MeterBinding<unknown>[] = [];
  const provider = () => {
    const p = createTestMeterProvider();
    providers.push(p);
    return p;
  };
  const track = <T>(b: MeterBinding<T>) => {
    bindings.push(b as MeterBinding<unknown>);
    return b;
  };

  afterEach(async () => {
    bindings.splice(0).forEach((b) => b.close());
    metrics.disable();
    await Promise.all(providers.splice(0).map((p) => p.shutdown()));
  });

  it('reports observable values through an injected provider', async () => {
    const p = provider();
    track(observing(() => 5, p.meterProvider));
    expect(valueOf(await p.collect(), NAME)).to.equal(5);
  });

  it('sums the contributions of several module instances; a closed one keeps its counter totals', async () => {
    const p = provider();
    let first = 2;
    track(observing(() => first, p.meterProvider));
    const second = track(observing(() => 3, p.meterProvider));
    expect(valueOf(await p.collect(), NAME)).to.equal(5);
    second.close();
    // A counter never goes back: the closed instance's last total stays in the sum.
    expect(valueOf(await p.collect(), NAME)).to.equal(5);
    first = 4;
    expect(valueOf(await p.collect(), NAME)).to.equal(7);
  });

  it('binds late to a global provider registered after the module was created, and moves on a change', async () => {
    let n = 7;
    track(observing(() => n));
    const first = provider();
    expect(metrics.setGlobalMeterProvider(first.meterProvider)).to.equal(true);
    refreshTelemetryBindings();
    expect(valueOf(await first.collect(), NAME)).to.equal(7);

    metrics.disable();
    const second = provider();
    metrics.setGlobalMeterProvider(second.meterProvider);
    refreshTelemetryBindings();
    n = 9;
    expect(valueOf(await second.collect(), NAME)).to.equal(9);
    // the old provider's callback was removed: it no longer sees new values
    const stale = findMetric(await first.collect(), NAME);
    expect(stale?.dataPoints.map((d) => d.value) ?? []).not.to.include(9);
  });

  it('isolates a throwing callback and counts it', async () => {
    const p = provider();
    const before = telemetryCallbackErrors();
    track(observing(() => 4, p.meterProvider));
    track(
      observing(() => {
        throw new Error('boom');
      }, p.meterProvider),
    );
    expect(valueOf(await p.collect(), NAME)).to.equal(4);
    expect(telemetryCallbackErrors()).to.equal(before + 1);
  });

  it('refuses metrics that are not in the catalog', () => {
    const p = provider();
    expect(() => new MeterBinding(scope, (f) => f.counter('tierkv.nope'), { meterProvider: p.meterProvider })).to.throw(
      InvalidArgumentError,
      /not in the tierkv metric catalog/,
    );
  });
});
