// One case of the host matrix (scripts/host-matrix/run.mjs), run in its own process by the
// matrix's Node from an app that installed tierkv's tarballs and the OpenTelemetry 3.x SDK:
//   node case.mjs start-telemetry|demo|host-first|tierkv-first
// Prints one JSON line {case, node, sdkMetrics (of the pipeline), api, expected, received, missing, failures}.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, expectedMetrics, prometheusFamilies } from './expected-metrics.mjs';
import { createStack, freePort, waitFor } from './workload.mjs';

const name = process.argv[2];
// The app's top-level copy (what its own imports resolve to); some packages export no ./package.json.
const versionOf = (pkg, under = '.') => {
  try {
    return JSON.parse(readFileSync(join(under, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
};
// startTelemetry() and the demo run @tierkv/otel's own SDK (2.x, nested when the app hoists 3.x).
const pipelineSdk = (c) => (c === 'start-telemetry' || c === 'demo' ? versionOf('@opentelemetry/sdk-metrics', 'node_modules/@tierkv/otel') ?? versionOf('@opentelemetry/sdk-metrics') : versionOf('@opentelemetry/sdk-metrics'));
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// tierkv warns through console.warn when two @opentelemetry/api versions are loaded; with one
// installed, that warning must never fire.
const API_WARNING = /two versions of @opentelemetry\/api/;
const warnings = [];
const consoleWarn = console.warn;
console.warn = (...a) => {
  warnings.push(a.map(String).join(' '));
  consoleWarn(...a);
};

const DEADLINE_MS = 120_000;

/** Drives the stack until every expected family has arrived (or the deadline), then compares. */
async function driveUntilComplete(stack, expected, collectNames, prometheus) {
  let last;
  const deadline = Date.now() + DEADLINE_MS;
  do {
    await stack.drive();
    last = compare(expected, await collectNames(), { prometheus });
  } while (last.missing.length > 0 && Date.now() < deadline);
  return last;
}

async function startTelemetryCase() {
  const { startTelemetry } = await import('@tierkv/otel');
  const expected = expectedMetrics({ pipeline: true });
  const handle = await startTelemetry({ serviceName: 'host-matrix', exporters: ['prometheus'], prometheus: { preventServerStart: true } });
  const stack = await createStack();
  try {
    return await driveUntilComplete(stack, expected, async () => prometheusFamilies((await handle.scrape()).body), true).then((r) => ({ ...r, expected: expected.length }));
  } finally {
    await stack.close();
    await handle.shutdown();
  }
}

async function demoCase() {
  const expected = expectedMetrics({ pipeline: true });
  const dir = mkdtempSync(join(tmpdir(), 'tierkv-host-matrix-demo-'));
  const port = await freePort();
  const bin = join('node_modules', 'tierkv', 'bin', 'tierkv.js');
  // Long enough to never end by itself before the scrape is complete; stopped by SIGINT (Ctrl-C) after.
  const child = spawn(process.execPath, [bin, 'demo', '--duration', '300', '--clients', '2', '--l1-size', '4MiB', '--sessions', '8', '--metrics-port', String(port), '--data-dir', join(dir, 'data')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-100_000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-100_000)));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  let exitCode;
  try {
    let last = { missing: expected.map((d) => d.name) };
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the demo exited early (${child.exitCode}):\n${output.slice(-3000)}`);
        try {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          if (!res.ok) return false;
          last = compare(expected, prometheusFamilies(await res.text()), { prometheus: true });
          return last.missing.length === 0;
        } catch {
          return false; // not listening yet
        }
      },
      'the demo to serve every expected family',
      DEADLINE_MS,
      250,
    ).catch((err) => check(false, err.message.split('\n')[0]));
    child.kill('SIGINT');
    exitCode = await exited;
    check(exitCode === 0, `the demo exited ${exitCode} after SIGINT:\n${output.slice(-2000)}`);
    check(!API_WARNING.test(output), `the demo warned about two API versions: ${output.split('\n').find((l) => API_WARNING.test(l))}`);
    return { ...last, expected: expected.length };
  } finally {
    if (exitCode === undefined) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The host's own pipeline: NodeSDK with an in-memory reader, started before or after tierkv's modules. */
async function nodeSdkCase(hostFirst) {
  const { metrics } = await import('@opentelemetry/api');
  const { AggregationTemporality, MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace');
  const { LATENCY_BOUNDARIES_S } = await import('@tierkv/core');
  const { StorageManager } = await import('@tierkv/storage');
  class InMemoryReader extends MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
    }
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new InMemoryReader();
  // The host also traces (into memory): NodeSDK's default OTLP exporters would send to a collector
  // that is not there; logs are not exported at all.
  process.env.OTEL_LOGS_EXPORTER = 'none';
  const spans = new InMemorySpanExporter();
  const sdk = new NodeSDK({ serviceName: 'host-matrix', metricReaders: [reader], spanProcessors: [new SimpleSpanProcessor({ exporter: spans })], instrumentations: [] });
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    check(errors.length === 0, `collection errors: ${errors.map(String).join('; ')}`);
    const byName = new Map();
    for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) if (m.dataPoints.length > 0) byName.set(m.descriptor.name, m);
    return byName;
  };
  const expected = expectedMetrics({ pipeline: false });
  let stack;
  try {
    if (hostFirst) sdk.start();
    stack = await createStack();
    if (!hostFirst) {
      // tierkv first: the modules run, and record, before any provider is registered.
      await stack.drive();
      sdk.start();
    }
    check(metrics.getMeterProvider() !== undefined, 'no global MeterProvider');
    const result = await driveUntilComplete(stack, expected, async () => new Set((await collect()).keys()), false);
    // tierkv's spans reach the host's TracerProvider too: one client span continued by the server.
    const names = new Set(spans.getFinishedSpans().map((s) => s.name));
    check(names.has('tierkv.client store') && names.has('tierkv.server store'), `the host's TracerProvider got no tierkv client and server spans (got ${[...names].slice(0, 8).join(', ') || 'none'})`);
    // The histogram advice (bucket boundaries) comes through the 3.x SDK too.
    const bounds = (await collect()).get('tierkv.l1.batch.duration')?.dataPoints[0]?.value.buckets.boundaries ?? [];
    check(JSON.stringify(bounds) === JSON.stringify(LATENCY_BOUNDARIES_S), `tierkv.l1.batch.duration boundaries ${JSON.stringify(bounds)} are not the catalog's advice`);
    if (hostFirst) {
      // A provider injected into one module (a 3.x MeterProvider of the host's own) receives that module's metrics.
      const ownReader = new InMemoryReader();
      const own = new MeterProvider({ readers: [ownReader] });
      const manager = new StorageManager({ l1: { capacityBytes: 1 << 20 }, meterProvider: own });
      const { MemoryLayout, objectKey } = await import('@tierkv/core');
      const keys = Array.from({ length: 4 }, (_, i) => objectKey(i.toString(16).padStart(16, '0'), 'injected'));
      manager.reserve(keys, MemoryLayout.bytes(64)).commit();
      const { resourceMetrics } = await ownReader.collect();
      const got = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'tierkv.storage.write.succeeded_keys');
      const total = got?.dataPoints.reduce((s, dp) => s + dp.value, 0);
      check(total === 4, `an injected 3.x MeterProvider got tierkv.storage.write.succeeded_keys = ${total}, expected 4`);
      await manager.close();
      await own.shutdown();
    }
    return { ...result, expected: expected.length };
  } finally {
    await stack?.close();
    await sdk.shutdown();
  }
}

const CASES = { 'start-telemetry': startTelemetryCase, demo: demoCase, 'host-first': () => nodeSdkCase(true), 'tierkv-first': () => nodeSdkCase(false) };
let result = { received: 0, expected: 0, missing: [], unknown: [] };
try {
  if (!CASES[name]) throw new Error(`unknown case ${name}; the cases are ${Object.keys(CASES).join(', ')}`);
  result = await CASES[name]();
  check(result.missing.length === 0, `missing ${result.missing.length} of ${result.expected} expected families: ${result.missing.join(', ')}`);
  check(result.unknown.length === 0, `tierkv families not in the catalog: ${result.unknown.join(', ')}`);
} catch (err) {
  failures.push(`threw: ${err?.stack ?? err}`);
}
const apiWarnings = warnings.filter((w) => API_WARNING.test(w));
check(apiWarnings.length === 0, `two-API-versions warning with one API installed: ${apiWarnings[0]}`);
console.log(
  JSON.stringify({ case: name, node: process.version, sdkMetrics: pipelineSdk(name), api: versionOf('@opentelemetry/api'), expected: result.expected, received: result.received, missing: result.missing, failures }),
);
process.exit(failures.length === 0 ? 0 : 1);
