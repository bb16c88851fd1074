import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ConfigError, detectApiVersionConflict } from '@tierkv/core';
// A second, older copy of the API, as a host with its own dependency tree would load it.
import { metrics as oldMetrics } from 'otel-api-old';
import { startTelemetry, type TelemetryHandle } from '../src/index.js';
import { TestModule } from './helpers/test-module.js';

const GLOBAL = Symbol.for('opentelemetry.js.api.1');
const slots = globalThis as unknown as Record<symbol, unknown>;

describe('two versions of @opentelemetry/api in one process', () => {
  let saved: unknown;
  let handle: TelemetryHandle | undefined;
  let mod: TestModule | undefined;
  let consoleWarn: typeof console.warn;
  let consoleLines: string[];

  beforeEach(() => {
    metrics.disable();
    // The API keeps its global object (with its version) once created; start from none, so the
    // old copy is the one that creates it, as when the host's SDK starts first.
    saved = slots[GLOBAL];
    delete slots[GLOBAL];
    consoleWarn = console.warn;
    consoleLines = [];
    console.warn = (m: string) => void consoleLines.push(m);
  });
  afterEach(async () => {
    console.warn = consoleWarn;
    mod?.close();
    await handle?.shutdown();
    handle = mod = undefined;
    oldMetrics.disable();
    delete slots[GLOBAL];
    if (saved !== undefined) slots[GLOBAL] = saved;
  });

  it('one copy: no conflict, no warning', async () => {
    expect(detectApiVersionConflict()).to.equal(undefined);
    const warnings: string[] = [];
    handle = await startTelemetry({ warn: (m) => warnings.push(m), serviceName: 's', env: {}, exporters: ['prometheus'], prometheus: { preventServerStart: true } });
    expect(warnings).to.deep.equal([]);
  });

  it('the host registered through api 1.4.1: startTelemetry warns naming both versions and what to do, then refuses to register', async () => {
    expect(oldMetrics.setGlobalMeterProvider(new MeterProvider())).to.equal(true);
    const conflict = detectApiVersionConflict();
    expect(conflict?.registered).to.equal('1.4.1');
    expect(conflict?.imported).to.match(/^1\.(9|\d\d)\.\d+$/);

    const warnings: string[] = [];
    const err = await startTelemetry({ warn: (m) => warnings.push(m), serviceName: 's', env: {}, exporters: ['prometheus'], prometheus: { preventServerStart: true } }).then(
      () => expect.fail('should reject'),
      (e: unknown) => e as ConfigError,
    );
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('1.4.1').and.include(conflict!.imported).and.include('npm dedupe');
    expect(warnings[0]).to.include('neither see providers registered through it');
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('1.4.1').and.include('registerGlobal: false');
  });

  it('registerGlobal: false still works (warned once), and a module created later warns once on console at first bind', async () => {
    oldMetrics.setGlobalMeterProvider(new MeterProvider());
    const warnings: string[] = [];
    const warn = (m: string) => void warnings.push(m);
    handle = await startTelemetry({ warn, serviceName: 's', env: {}, exporters: ['prometheus'], prometheus: { preventServerStart: true }, registerGlobal: false });
    const again = await startTelemetry({ warn, serviceName: 's', env: {}, exporters: ['none'], registerGlobal: false });
    await again.shutdown();
    expect(warnings).to.have.length(1, 'once per warn sink');

    mod = new TestModule({ meterProvider: handle.meterProvider });
    mod.work(0.25);
    expect((await handle.scrape()).body).to.include('tierkv_telemetry_export_duration_seconds_sum{tierkv_telemetry_exporter="custom",tierkv_telemetry_export_outcome="success",otel_scope_name="test-module"');

    // Following the global: core's MeterBinding warns on the console at first bind, once.
    const follower = new TestModule();
    const second = new TestModule();
    follower.close();
    second.close();
    const fromCore = consoleLines.filter((l) => l.includes('two versions of @opentelemetry/api'));
    expect(fromCore).to.have.length(1);
    expect(fromCore[0]).to.include('1.4.1');
  });
});
