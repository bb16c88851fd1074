import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { metrics, type MeterProvider } from '@opentelemetry/api';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { balancedOrders } from '../support/balanced-orders.js';
import { meterProviderWithReader } from '../support/manual-reader.js';
import { QUICK_BUDGET_MS, rateAsync } from '../timing.js';

/** Chunk size and batch: small chunks, so per-call bookkeeping (and so instrumentation) weighs most. */
const CHUNK_BYTES = 4096;
const BATCH = 16;
/** Batches kept live: the L1 holds them all, so every round does the same work. */
const LIVE_BATCHES = 64;

const layout = MemoryLayout.bytes(CHUNK_BYTES);

/** One StorageManager (L1 + memory L2, write-through) and its steady write → prefetch → read → delete loop. */
class Subject {
  readonly manager: StorageManager;
  readonly #batches: ObjectKey[][];
  #next = 0;

  constructor(keyBase: number, meterProvider: MeterProvider | undefined) {
    this.manager = new StorageManager({
      l1: { capacityBytes: 4 * LIVE_BATCHES * BATCH * CHUNK_BYTES },
      l2: [new MemoryL2Adapter({ capacityBytes: 4 * LIVE_BATCHES * BATCH * CHUNK_BYTES })],
      ...(meterProvider ? { meterProvider } : {}),
    });
    this.#batches = Array.from({ length: 2 * LIVE_BATCHES }, (_, b) =>
      Array.from({ length: BATCH }, (_, i) => objectKey((keyBase + b * BATCH + i).toString(16).padStart(16, '0'), 'bench-model')),
    );
  }

  /** Writes one batch (through to L2), prefetches and reads it back, deletes the batch written LIVE_BATCHES ago. Returns chunks moved. */
  async round(): Promise<number> {
    const b = this.#next;
    this.#next = (b + 1) % this.#batches.length;
    const keys = this.#batches[b]!;
    const objs = this.manager.reserveWrite(keys, layout);
    for (const o of objs) o?.data.fill(b & 0xff);
    this.manager.finishWrite(keys);
    // The write-through completes inside the round, so no subject's background work runs in
    // another subject's timed round.
    await this.manager.flush();
    const handle = this.manager.submitPrefetch(keys, layout);
    const ready = await this.manager.waitPrefetch(handle);
    if (ready !== BATCH) throw new Error(`prefetch found ${ready} of ${BATCH} chunks just written`);
    const read = this.manager.readPrefetched(keys);
    if (!read || read[0]!.data[0] !== (b & 0xff)) throw new Error('readPrefetched returned wrong data');
    this.manager.finishReadPrefetched(keys);
    await this.manager.delete(this.#batches[(b + LIVE_BATCHES) % this.#batches.length]!);
    return 2 * BATCH;
  }

  close(): Promise<void> {
    return this.manager.close();
  }
}

/** A loopback OTLP endpoint that accepts and discards every export. */
async function startSink(): Promise<{ url: string; exports: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    exports: () => count,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * How often each SDK subject is collected (a scrape and an OTLP push), in its own measured time:
 * so much work between two collections whatever the machine's load or the number of subjects
 * (a wall-clock cadence charged a loaded machine more collections per unit of work). About as
 * often as the former one per wall second among three subjects; exaggerated: real deployments
 * collect every 15-60 s.
 */
const COLLECT_EVERY_MS = 333;

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  if (metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider') {
    ctx.log('a global MeterProvider is registered: the "no SDK" figure includes it');
  }
  const reader = meterProviderWithReader();
  const sink = await startSink();
  let telemetry: TelemetryHandle | undefined;
  const subjects: Subject[] = [];
  try {
    // Both exporters at once, on their own provider (not global, so the "no SDK" subject stays
    // bare). Pushes are driven below, so their cost is charged to this subject alone.
    telemetry = await startTelemetry({
      env: {},
      warn: (m) => ctx.log(m),
      serviceName: 'tierkv-bench',
      registerGlobal: false,
      exporters: ['prometheus', 'otlp'],
      prometheus: { port: 0 },
      otlp: { endpoint: sink.url },
      exportIntervalMillis: 3_600_000,
    });
    const handle = telemetry;
    // Subject 3 is a second bare instance: its ratio to subject 0 is what two identical subjects
    // measure on this machine, the noise floor against which the SDK ratios are to be read.
    subjects.push(
      new Subject(0, undefined),
      new Subject(1 << 24, reader.meterProvider),
      new Subject(2 << 24, handle.meterProvider),
      new Subject(3 << 24, undefined),
    );
    // Warm up every subject (JIT, arena, L2 maps) before measuring any.
    for (const s of subjects) await rateAsync(budget / 4, () => s.round());

    // Round-robin, one round each in turn, each round timed: a machine that speeds up or slows
    // down affects all alike. Collections are timed too and charged to their subject.
    const chunks = subjects.map(() => 0);
    const ms = subjects.map(() => 0);
    // With --quick the run is too short to charge even one collection fairly: collect only
    // afterwards, to check the metrics flowed.
    const cadence = ctx.quick ? Infinity : COLLECT_EVERY_MS;
    const end = performance.now() + subjects.length * budget;
    const orders = balancedOrders(subjects.length);
    // Per subject: its own measured time at which it is next collected (the bare ones never are).
    const nextCollect = subjects.map(() => cadence);
    const collectors: (() => Promise<void>)[] = [
      async () => undefined,
      async () => {
        if ((await reader.collect()) === 0) throw new Error('the SDK reader collected no metrics');
      },
      async () => {
        const { body } = await handle.scrape();
        await handle.forceFlush();
        if (!body.includes('tierkv_storage_write_requests_total')) throw new Error('the Prometheus scrape lacks tierkv_storage metrics');
      },
      async () => undefined,
    ];
    for (let n = 0; performance.now() < end; n++) {
      // Cycles run the subjects in the orders of a balanced Latin square, so each subject follows
      // every other one equally often: what a round leaves behind (garbage the next one collects)
      // is spread evenly. A mere rotation kept each subject's predecessor (the second bare
      // instance paid for the SDK subject's garbage: 0.82-0.89 of the first).
      const order = orders[Math.floor(n / subjects.length) % orders.length]!;
      const i = order[n % subjects.length]!;
      const t0 = performance.now();
      chunks[i]! += await subjects[i]!.round();
      ms[i]! += performance.now() - t0;
      if (ms[i]! >= nextCollect[i]!) {
        nextCollect[i]! += cadence;
        const t1 = performance.now();
        await collectors[i]!();
        ms[i]! += performance.now() - t1;
      }
    }
    const measured = [...ms];
    for (const c of collectors) await c(); // not charged: it checks that every path carried metrics
    if (sink.exports() === 0) throw new Error('no OTLP export reached the sink');
    const [bare, oneReader, both, bareAgain] = chunks.map((c, i) => (c * 1000) / measured[i]!) as [number, number, number, number];
    const bareName = 'tierkv storage write+prefetch+read, no SDK';
    const note = `${BATCH} × ${CHUNK_BYTES / 1024} KiB chunks per batch, L1 + memory L2; ${ctx.quick ? 'collections not charged (--quick)' : `collected every ${cadence} ms of its own time`}`;
    return [
      { subject: bareName, value: bare, unit: 'ops/s', note },
      // Instrumentation goal (issue 11): at most 3% slower with an SDK attached, even with both exporters.
      { subject: 'tierkv storage, one SDK reader', value: oneReader, unit: 'ops/s', reference: bareName, goal: 0.97 },
      { subject: 'tierkv storage, Prometheus + OTLP', value: both, unit: 'ops/s', reference: bareName, goal: 0.97 },
      {
        subject: 'tierkv storage, no SDK, a second instance',
        value: bareAgain,
        unit: 'ops/s',
        reference: bareName,
        note: 'the same as the reference: its ratio is the noise floor of this run',
      },
    ];
  } finally {
    for (const s of subjects) await s.close();
    await telemetry?.shutdown();
    await reader.shutdown();
    await sink.close();
  }
}

export const instrumentationScenario: BenchScenario = {
  name: 'otel.instrumentation',
  description: 'storage throughput (chunks/s) with no SDK, with one SDK reader, and with Prometheus + OTLP exporters attached',
  peers: ['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-prometheus', '@opentelemetry/exporter-metrics-otlp-proto'],
  run,
};
