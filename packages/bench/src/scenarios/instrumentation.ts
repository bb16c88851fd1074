import { createServer, type Server } from 'node:http';
import { metrics, type MeterProvider } from '@opentelemetry/api';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { meterProviderWithReader } from '../support/manual-reader.js';
import { QUICK_BUDGET_MS, rateAsync } from '../timing.js';

/** Chunk size and batch: small chunks, so per-call bookkeeping (and so instrumentation) weighs most. */
const CHUNK_BYTES = 4096;
const BATCH = 16;
/** Batches kept live: the L1 holds them all, so every round does the same work. */
const LIVE_BATCHES = 64;
/** Slices per subject: the three subjects alternate so drift of the machine affects them alike. */
const SLICES = 6;

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

  /** Writes one batch, prefetches and reads it back, deletes the batch written LIVE_BATCHES ago. Returns chunks moved. */
  async round(): Promise<number> {
    const b = this.#next;
    this.#next = (b + 1) % this.#batches.length;
    const keys = this.#batches[b]!;
    const objs = this.manager.reserveWrite(keys, layout);
    for (const o of objs) o?.data.fill(b & 0xff);
    this.manager.finishWrite(keys);
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
    // Both exporters at once, on their own provider (not global, so the "no SDK" subject stays bare).
    // A 1 s push interval and a scrape per slice exaggerate the export load of real deployments.
    telemetry = await startTelemetry({
      env: {},
      warn: (m) => ctx.log(m),
      serviceName: 'tierkv-bench',
      registerGlobal: false,
      exporters: ['prometheus', 'otlp'],
      prometheus: { port: 0 },
      otlp: { endpoint: sink.url },
      exportIntervalMillis: 1000,
    });
    subjects.push(new Subject(0, undefined), new Subject(1 << 24, reader.meterProvider), new Subject(2 << 24, telemetry.meterProvider));
    // Warm up every subject (JIT, arena, L2 maps) before measuring any.
    for (const s of subjects) await rateAsync(budget / SLICES, () => s.round());
    const sums = subjects.map(() => 0);
    for (let slice = 0; slice < SLICES; slice++) {
      // Rotate who goes first, so no subject always runs right after a collection.
      for (let k = 0; k < subjects.length; k++) {
        const i = (slice + k) % subjects.length;
        sums[i]! += await rateAsync(budget / SLICES, () => subjects[i]!.round());
      }
      if ((await reader.collect()) === 0) throw new Error('the SDK reader collected no metrics');
      const { body } = await telemetry.scrape();
      if (!body.includes('tierkv_storage_write_requests_total')) throw new Error('the Prometheus scrape lacks tierkv_storage metrics');
    }
    await telemetry.forceFlush();
    if (sink.exports() === 0) throw new Error('no OTLP export reached the sink');
    const [bare, oneReader, both] = sums.map((s) => s / SLICES) as [number, number, number];
    const bareName = 'tierkv storage write+prefetch+read, no SDK';
    const note = `${BATCH} × ${CHUNK_BYTES / 1024} KiB chunks per batch, L1 + memory L2`;
    return [
      { subject: bareName, value: bare, unit: 'ops/s', note },
      // Instrumentation goal: at most 5% slower with an SDK attached, even with both exporters.
      { subject: 'tierkv storage, one SDK reader', value: oneReader, unit: 'ops/s', reference: bareName, goal: 0.95 },
      { subject: 'tierkv storage, Prometheus + OTLP', value: both, unit: 'ops/s', reference: bareName, goal: 0.95 },
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
