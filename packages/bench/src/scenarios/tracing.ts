import { performance } from 'node:perf_hooks';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { MemoryLayout, objectKey, TracerBinding, type ObjectKey } from '@tierkv/core';
import { AsyncLocalStorageContextManager, BatchSpanProcessor, InMemorySpanExporter, startTelemetry, type TelemetryHandle } from '@tierkv/otel';
import { TierkvClient, TierkvServer } from '@tierkv/server';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { QUICK_BUDGET_MS } from '../timing.js';

const CHUNK_BYTES = 4096;
const BATCH = 16;
const LIVE_BATCHES = 32;
const SLICES = 8;
const layout = MemoryLayout.bytes(CHUNK_BYTES);

function batches(base: number): ObjectKey[][] {
  return Array.from({ length: 2 * LIVE_BATCHES }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => objectKey((base + b * BATCH + i).toString(16).padStart(16, '0'), 'bench-trace')),
  );
}

/** StorageManager calls: reserve/commit (write-through to a memory L2), prefetch, read, delete. */
function storageLoop(): { round(): Promise<number>; close(): Promise<void> } {
  const manager = new StorageManager({
    l1: { capacityBytes: 4 * LIVE_BATCHES * BATCH * CHUNK_BYTES },
    l2: [new MemoryL2Adapter({ capacityBytes: 4 * LIVE_BATCHES * BATCH * CHUNK_BYTES })],
  });
  const all = batches(0);
  let next = 0;
  return {
    async round() {
      const b = next;
      next = (b + 1) % all.length;
      const keys = all[b]!;
      const r = manager.reserve(keys, layout);
      for (const o of r.objects) o?.data.fill(b & 0xff);
      r.commit();
      await manager.flush();
      const lease = manager.prefetch(keys, layout);
      const ready = await lease.ready;
      if (ready !== BATCH) throw new Error(`prefetch found ${ready} of ${BATCH}`);
      lease.objects();
      lease.release();
      await manager.delete(all[(b + LIVE_BATCHES) % all.length]!);
      return 2 * BATCH;
    },
    close: () => manager.close(),
  };
}

/** Client → server over loopback ZeroMQ (one process): a store and a retrieve of one batch per round. */
async function serverLoop(): Promise<{ round(): Promise<number>; close(): Promise<void> }> {
  const storage = new StorageManager({ l1: { capacityBytes: 4 * LIVE_BATCHES * BATCH * CHUNK_BYTES } });
  const server = new TierkvServer({ storage, port: 0, httpPort: null });
  const { endpoint } = await server.start();
  const client = new TierkvClient({ endpoint, layout, timeoutMs: 10_000 });
  const all = batches(1 << 24);
  const chunks = Array.from({ length: BATCH }, () => new Uint8Array(CHUNK_BYTES).fill(7));
  let next = 0;
  return {
    async round() {
      const keys = all[next]!;
      next = (next + 1) % all.length;
      await client.store(keys, chunks, { mode: 'all' });
      const got = await client.retrieve(keys);
      if (got.chunks.length !== BATCH) throw new Error(`retrieve returned ${got.chunks.length} of ${BATCH}`);
      return 2 * BATCH;
    },
    async close() {
      client.close();
      await server.shutdown(2_000);
    },
  };
}

/** Nanoseconds per `TracerBinding.start()` with no TracerProvider registered (the whole cost then). */
function noProviderCallNs(): number {
  const binding = new TracerBinding({ name: 'bench', version: '0' });
  const n = 2_000_000;
  let spans = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (binding.start('x', SpanKind.INTERNAL, () => ({ i })) !== undefined) spans++;
  const ms = performance.now() - t0;
  if (spans !== 0) throw new Error('a span was created with no TracerProvider');
  return (ms * 1e6) / n;
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  trace.disable();
  context.disable();
  const exporter = new InMemorySpanExporter();
  let telemetry: TelemetryHandle | undefined;
  const loops = [storageLoop(), await serverLoop()];
  const manager = new AsyncLocalStorageContextManager();
  try {
    // A TracerProvider with an in-memory exporter behind the batch processor (as OTLP runs), always sampling: the worst case of a registered SDK.
    telemetry = await startTelemetry({
      env: {},
      warn: (m) => ctx.log(m),
      serviceName: 'tierkv-bench',
      registerGlobal: false,
      exporters: ['none'],
      traces: { exporters: ['none'], sampler: { name: 'always_on' }, spanProcessors: [new BatchSpanProcessor({ exporter })] },
    });
    const provider = telemetry.tracerProvider!;
    const on = () => {
      trace.setGlobalTracerProvider(provider);
      context.setGlobalContextManager(manager.enable());
    };
    const off = () => {
      trace.disable();
      context.disable();
      manager.disable();
    };
    // Phases alternate (off, on, on, off, …) per slice: a machine that drifts affects both alike.
    // The modules re-resolve the global provider on every call, so switching costs nothing.
    const ops = loops.map(() => [0, 0]);
    const ms = loops.map(() => [0, 0]);
    for (const [i, loop] of loops.entries()) {
      for (const traced of [0, 1]) {
        if (traced) on();
        const end = performance.now() + budget / 4;
        while (performance.now() < end) await loop.round(); // warm-up
        if (traced) off();
      }
      for (let s = 0; s < 2 * SLICES; s++) {
        const traced = (s + Math.floor(s / 2)) % 2; // 0 1 1 0 0 1 1 0 …
        if (traced) on();
        const t0 = performance.now();
        const end = t0 + budget / SLICES;
        while (performance.now() < end) ops[i]![traced]! += await loop.round();
        // The export of what the batch processor still holds is charged to the traced slice.
        if (traced) await telemetry.forceFlush();
        ms[i]![traced]! += performance.now() - t0;
        if (traced) {
          off();
          exporter.reset();
        }
      }
    }
    if (exporter.getFinishedSpans().length !== 0) throw new Error('spans were exported while tracing was off');
    const [storageBare, storageTraced, serverBare, serverTraced] = [ops[0]![0]! / ms[0]![0]!, ops[0]![1]! / ms[0]![1]!, ops[1]![0]! / ms[1]![0]!, ops[1]![1]! / ms[1]![1]!].map((v) => v * 1000) as [number, number, number, number];
    const nsPerCall = noProviderCallNs();
    const sNote = `${BATCH} × ${CHUNK_BYTES / 1024} KiB per batch: reserve/commit + L2 write-through, prefetch, read, delete (≈ 8 spans per round traced)`;
    const vNote = `${BATCH} × ${CHUNK_BYTES / 1024} KiB per batch: store + retrieve, client and server in one process (≈ 10 spans per round traced)`;
    return [
      { subject: 'storage calls, no TracerProvider', value: storageBare, unit: 'ops/s', note: sNote },
      { subject: 'storage calls, TracerProvider + in-memory exporter', value: storageTraced, unit: 'ops/s', reference: 'storage calls, no TracerProvider', goal: 0.95 },
      { subject: 'server calls, no TracerProvider', value: serverBare, unit: 'ops/s', note: vNote },
      { subject: 'server calls, TracerProvider + in-memory exporter', value: serverTraced, unit: 'ops/s', reference: 'server calls, no TracerProvider', goal: 0.95 },
      { subject: 'span call with no TracerProvider', value: nsPerCall / 1e9, unit: 's', note: 'one TracerBinding.start(): the whole tracing cost of an operation when unused' },
    ];
  } finally {
    trace.disable();
    context.disable();
    for (const l of loops) await l.close();
    await telemetry?.shutdown();
  }
}

export const tracingScenario: BenchScenario = {
  name: 'otel.tracing',
  description: 'storage and server throughput (chunks/s) with no TracerProvider and with one registered (always on, in-memory exporter); cost of a span call with none',
  peers: ['@opentelemetry/sdk-trace'],
  run,
};
