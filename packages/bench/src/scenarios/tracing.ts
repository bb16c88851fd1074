import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { context, ProxyTracerProvider, SpanKind, trace, type TracerProvider } from '@opentelemetry/api';
import { MemoryLayout, objectKey, TracerBinding, type ObjectKey } from '@tierkv/core';
import { AsyncLocalStorageContextManager, startTelemetry, type SpanProcessor, type TelemetryHandle, type TracesOptions } from '@tierkv/otel';
import { TierkvClient, TierkvServer } from '@tierkv/server';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { QUICK_BUDGET_MS } from '../timing.js';

/** 4 KiB chunks weigh the per-call cost most; 256 KiB is the size the other goals are judged at. */
const SMALL_CHUNK = 4096;
const LARGE_CHUNK = 256 * 1024;
const BATCH = 16;
const LIVE_BATCHES = 32;

interface Loop {
  round(): Promise<number>;
  close(): Promise<void>;
}

function batches(base: number): ObjectKey[][] {
  return Array.from({ length: 2 * LIVE_BATCHES }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => objectKey((base + b * BATCH + i).toString(16).padStart(16, '0'), 'bench-trace')),
  );
}

/** StorageManager calls: reserve/commit (write-through to a memory L2), prefetch, read, delete. */
function storageLoop(chunkBytes: number): Loop {
  const layout = MemoryLayout.bytes(chunkBytes);
  const manager = new StorageManager({
    l1: { capacityBytes: 4 * LIVE_BATCHES * BATCH * chunkBytes },
    l2: [new MemoryL2Adapter({ capacityBytes: 4 * LIVE_BATCHES * BATCH * chunkBytes })],
  });
  const all = batches(chunkBytes << 8);
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
async function serverLoop(chunkBytes: number): Promise<Loop> {
  const layout = MemoryLayout.bytes(chunkBytes);
  const storage = new StorageManager({ l1: { capacityBytes: 4 * LIVE_BATCHES * BATCH * chunkBytes } });
  const server = new TierkvServer({ storage, port: 0, httpPort: null });
  const { endpoint } = await server.start();
  const client = new TierkvClient({ endpoint, layout, timeoutMs: 10_000 });
  const all = batches((1 << 24) + (chunkBytes << 8));
  const chunks = Array.from({ length: BATCH }, () => new Uint8Array(chunkBytes).fill(7));
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

/**
 * An OTLP/HTTP receiver in a child process that answers every export with an empty success, so
 * the traced phases pay what a real exporter pays in this process (protobuf encoding, the HTTP
 * request) and none of the receiving.
 */
async function startOtlpSink(): Promise<{ endpoint: string; received(): Promise<number>; close(): void }> {
  const code = `let n=0;const s=require('node:http').createServer((q,r)=>{q.on('data',(d)=>{n+=d.length;});q.on('end',()=>{r.writeHead(200,{'content-type':'application/x-protobuf'});r.end();});});s.listen(0,'127.0.0.1',()=>process.stdout.write(String(s.address().port)+'\\n'));process.on('message',()=>process.send(n));process.on('disconnect',()=>process.exit(0));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => reject(new Error(`the OTLP sink exited (${c}) before listening`)));
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
  });
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    /** Bytes of export bodies received so far. */
    received: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m) => resolve(Number(m)));
        child.send('count');
      }),
    close: () => child.kill(),
  };
}

/**
 * CPU per span of the SDK alone, in a tight loop: start with two attributes, one more attribute,
 * end, on a TracerProvider whose processor drops every span. No exporter can make a span cheaper.
 */
function sdkSpanNs(provider: TracerProvider): number {
  const tracer = provider.getTracer('tierkv.bench', '0');
  const loop = (n: number) => {
    for (let i = 0; i < n; i++) {
      const span = tracer.startSpan('tierkv.storage.store', { kind: SpanKind.INTERNAL, attributes: { 'tierkv.keys': 16, 'tierkv.layout': 'bytes:4096' } });
      span.setAttribute('tierkv.hit_prefix', i & 15);
      span.end();
    }
  };
  const n = 20_000;
  loop(n);
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = process.cpuUsage();
    loop(n);
    const c = process.cpuUsage(c0);
    runs.push(((c.user + c.system) * 1000) / n);
  }
  return median(runs);
}

/** A registered TracerProvider whose tracers are the API's no-op: spans exist but never record. */
const noopProvider: TracerProvider = { getTracer: (name, version) => new ProxyTracerProvider().getDelegate().getTracer(name, version) };

const PHASES = ['none', 'noop', 'recording', 'context', 'sdk'] as const;
/** One cycle: each phase twice, mirrored, so a machine that drifts within the cycle affects all alike. */
const CYCLE = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0] as const;
/** What the goal allows tracing to cost: 5% of a round. */
const GOAL_SHARE = 0.05;
const CYCLES = 6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  trace.disable();
  context.disable();
  const sink = await startOtlpSink();
  let telemetry: TelemetryHandle | undefined;
  let sdkOnly: TelemetryHandle | undefined;
  const specs = [
    { label: 'storage calls', chunkBytes: SMALL_CHUNK, what: 'reserve → commit with L2 write-through, prefetch, read, delete' },
    { label: 'server calls', chunkBytes: SMALL_CHUNK, what: 'store + retrieve, client and server in one process' },
    { label: 'storage calls 256 KiB', chunkBytes: LARGE_CHUNK, what: 'the same storage round' },
    { label: 'server calls 256 KiB', chunkBytes: LARGE_CHUNK, what: 'the same server round' },
  ];
  const loops: Loop[] = [];
  for (const spec of specs) loops.push(spec.label.startsWith('storage') ? storageLoop(spec.chunkBytes) : await serverLoop(spec.chunkBytes));
  const manager = new AsyncLocalStorageContextManager();
  // Counts the spans that end, so the report says how many spans a round records (not a constant
  // that could drift from the code).
  let ended = 0;
  const counter: SpanProcessor = { onStart: () => undefined, onEnd: () => void ended++, forceFlush: async () => undefined, shutdown: async () => undefined };
  try {
    // What startTelemetry runs for OTLP http/protobuf: always sampling here, OtlpStreamSpanProcessor
    // (each span encoded as it ends, sent in batches), to a collector.
    // Traces only, not registered globally: each phase installs its provider itself.
    const tracesOnly = (traces: TracesOptions) =>
      startTelemetry({ env: {}, warn: (m) => ctx.log(m), serviceName: 'tierkv-bench', registerGlobal: false, exporters: ['none'], traces });
    telemetry = await tracesOnly({ exporters: ['otlp'], otlp: { endpoint: sink.endpoint, protocol: 'http/protobuf' }, sampler: { name: 'always_on' }, spanProcessors: [counter] });
    const provider = telemetry.tracerProvider!;
    // 'sdk': the same TracerProvider settings with a processor that drops every span and no
    // exporter: what the SDK's spans cost before tierkv's export pipeline does anything.
    const drop: SpanProcessor = { onStart: () => undefined, onEnd: () => undefined, forceFlush: async () => undefined, shutdown: async () => undefined };
    sdkOnly = await tracesOnly({ exporters: ['none'], sampler: { name: 'always_on' }, spanProcessors: [drop] });
    const sdkProvider = sdkOnly.tracerProvider!;
    const enter = (phase: number) => {
      if (phase === 0) return;
      trace.setGlobalTracerProvider(phase === 1 ? noopProvider : phase === 4 ? sdkProvider : provider);
      // 'context': the recording phase's context manager with no provider, to show its share.
      if (phase >= 2) context.setGlobalContextManager(manager.enable());
      if (phase === 3) {
        trace.disable();
        // As a traced call does: one context.with turns the manager's AsyncLocalStorage on.
        context.with(context.active(), () => undefined);
      }
    };
    const leave = () => {
      trace.disable();
      context.disable();
      manager.disable();
    };
    // Each phase gets `budget` ms in all, in short slices: the load of a shared machine swings
    // within a second, so what counts is the ratio within one cycle, and the median over cycles.
    // Rates are chunks per CPU-second of this process.
    // The modules re-resolve the global provider on every call, so switching costs nothing.
    const sliceMs = (PHASES.length * budget) / (CYCLES * CYCLE.length);
    const rates = loops.map(() => PHASES.map(() => [] as number[]));
    const spansPerRound = loops.map(() => 0);
    for (const [i, loop] of loops.entries()) {
      for (let phase = 0; phase < PHASES.length; phase++) {
        enter(phase);
        const end = performance.now() + budget / 6;
        while (performance.now() < end) await loop.round(); // warm-up
        if (phase === 2) {
          // One counted round: every span it records has ended once the processors flushed.
          await telemetry.forceFlush();
          const before = ended;
          await loop.round();
          await telemetry.forceFlush();
          spansPerRound[i] = ended - before;
        }
        leave();
      }
      for (let c = 0; c < CYCLES; c++) {
        const ops = PHASES.map(() => 0);
        const ms = PHASES.map(() => 0);
        for (const phase of CYCLE) {
          enter(phase);
          // Untimed settling first: the garbage and the pending export a recording slice leaves
          // behind are paid here, not by whichever phase follows it.
          const settle = performance.now() + sliceMs / 4;
          while (performance.now() < settle) await loop.round();
          // Cost is CPU time (all of the process's threads, ZeroMQ's I/O threads included), not
          // wall time: on a shared machine the wall time of a slice depends on what else the
          // scheduler runs, the CPU this process spends per chunk much less.
          const cpu0 = process.cpuUsage();
          const end = performance.now() + sliceMs;
          while (performance.now() < end) ops[phase]! += await loop.round();
          // The export of what the span processor still holds is charged to the recording slice
          // (encoding, sending; the wait for the receiver process costs no CPU here).
          if (phase === 2) await telemetry.forceFlush();
          const cpu = process.cpuUsage(cpu0);
          ms[phase]! += (cpu.user + cpu.system) / 1000;
          leave();
        }
        for (let phase = 0; phase < PHASES.length; phase++) rates[i]![phase]!.push((ops[phase]! / ms[phase]!) * 1000);
      }
    }
    if ((await sink.received()) === 0) throw new Error('the recording phases exported no span to the OTLP receiver');
    // No provider: the median rate over cycles. The others: that times the median of their
    // per-cycle ratios to it, so the ratio column is the median of ratios measured side by side.
    const base = (i: number) => median(rates[i]![0]!);
    const rate = (i: number, phase: number) => (phase === 0 ? base(i) : base(i) * median(rates[i]![phase]!.map((r, c) => r / rates[i]![0]![c]!)));
    const nsPerCall = noProviderCallNs();
    const nsPerSdkSpan = sdkSpanNs(sdkProvider);
    const recNote = 'always on, OtlpStreamSpanProcessor (startTelemetry\'s OTLP http/protobuf pipeline) to a receiver in another process; median of per-cycle ratios';
    const cycleNote = `chunks per CPU-second; median of ${CYCLES} per-cycle ratios to no provider, each cycle ${CYCLE.length} mirrored slices`;
    const out: BenchMeasurement[] = [];
    for (const [i, spec] of specs.entries()) {
      const none = `${spec.label}, no TracerProvider`;
      const note = `chunks per CPU-second; ${BATCH} × ${spec.chunkBytes / 1024} KiB per batch: ${spec.what} (${spansPerRound[i]} spans per round recorded)`;
      out.push(
        { subject: none, value: rate(i, 0), unit: 'ops/s', note },
        { subject: `${spec.label}, no-op TracerProvider`, value: rate(i, 1), unit: 'ops/s', reference: none, goal: 0.95, note: cycleNote },
        { subject: `${spec.label}, recording TracerProvider`, value: rate(i, 2), unit: 'ops/s', reference: none, goal: 0.95, note: recNote },
        { subject: `${spec.label}, context manager only`, value: rate(i, 3), unit: 'ops/s', reference: none, note: "the recording phase's AsyncLocalStorageContextManager, no TracerProvider" },
        { subject: `${spec.label}, SDK spans only`, value: rate(i, 4), unit: 'ops/s', reference: none, note: 'the recording settings (always on, the same context manager) with a span processor that drops every span: the SDK before any export' },
      );
      // What one recorded span costs in this process (creation, context, export), from the
      // same rates: the extra CPU time per round over the spans in it.
      const chunksPerRound = 2 * BATCH;
      const extraSPerRound = chunksPerRound / rate(i, 2) - chunksPerRound / rate(i, 0);
      if (spansPerRound[i]! > 0) {
        out.push(
          { subject: `${spec.label}, CPU time per recorded span`, value: extraSPerRound / spansPerRound[i]!, unit: 's', note: 'recording minus no provider, per round, over the spans of a round' },
          { subject: `${spec.label}, CPU time the goal allows per span`, value: (GOAL_SHARE * chunksPerRound) / rate(i, 0) / spansPerRound[i]!, unit: 's', note: `${GOAL_SHARE * 100}% of a round with no provider, over the spans of a round; compare the SDK's own span below` },
        );
      }
    }
    out.push(
      { subject: 'span call with no TracerProvider', value: nsPerCall / 1e9, unit: 's', note: 'one TracerBinding.start(): the whole tracing cost of an operation when unused' },
      { subject: 'SDK span alone, tight loop', value: nsPerSdkSpan / 1e9, unit: 's', note: "start with 2 attributes, 1 attribute more, end, on the 'SDK spans only' provider (its processor drops every span): CPU per span, median of 7 × 20 000" },
    );
    return out;
  } finally {
    trace.disable();
    context.disable();
    for (const l of loops) await l.close();
    await telemetry?.shutdown();
    await sdkOnly?.shutdown();
    sink.close();
  }
}

export const tracingScenario: BenchScenario = {
  name: 'otel.tracing',
  description:
    'storage and server chunks per CPU-second with no TracerProvider, a no-op one, and a recording one (always on, OTLP http/protobuf as startTelemetry sets it up), interleaved; cost of a span call with none',
  peers: ['@opentelemetry/sdk-trace'],
  run,
};
