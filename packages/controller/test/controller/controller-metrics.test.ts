import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { refreshTelemetryBindings } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { CacheController } from '../../src/controller/cache-controller.js';

describe('controller metrics late binding', () => {
  it('reaches a global MeterProvider registered after the controller was created', async () => {
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false });
    await controller.start();
    const telemetry = createTestMeterProvider();
    try {
      metrics.setGlobalMeterProvider(telemetry.meterProvider);
      refreshTelemetryBindings();
      controller.lookup({ hashes: ['0000000000000001'] }, { modelName: 'm' });
      const rm = await telemetry.collect();
      expect(valueOf(rm, 'tierkv.controller.workers.registered')).to.equal(0);
      expect(valueOf(rm, 'tierkv.controller.lookup.duration')).to.equal(1);
    } finally {
      await controller.close();
      metrics.disable();
      await telemetry.shutdown();
    }
  });
});
