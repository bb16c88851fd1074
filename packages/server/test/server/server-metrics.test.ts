import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { refreshTelemetryBindings } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { ServerFixture } from '../helpers/server-fixture.js';

describe('server/ServerMetrics', () => {
  let fx: ServerFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
    metrics.disable();
  });

  it('binds late: a server created before the global MeterProvider still reports to it', async () => {
    fx = await new ServerFixture().start();
    const c = fx.client();
    await c.ping();
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    metrics.setGlobalMeterProvider(meterProvider);
    refreshTelemetryBindings();
    await c.ping();
    const rm = await collect();
    // Counts kept before the provider arrived are reported too (they are plain numbers).
    expect(valueOf(rm, 'tierkv.server.requests', { 'tierkv.request.type': 'ping', 'tierkv.request.outcome': 'ok' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.client.requests', { 'tierkv.request.type': 'ping', 'tierkv.request.outcome': 'ok' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.server.request.duration', { 'tierkv.request.type': 'ping' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.server.sessions')).to.equal(1);
    await shutdown();
  });
});
