import { performance } from 'node:perf_hooks';
import { context, trace } from '@opentelemetry/api';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { AsyncLocalStorageContextManager, startTelemetry, BatchSpanProcessor } from '@tierkv/otel';
import { MemoryL2Adapter, StorageManager } from '@tierkv/storage';
const CHUNK = +(process.env.CHUNK ?? 4096), BATCH = 16, LIVE = 32;
const layout = MemoryLayout.bytes(CHUNK);
const all = Array.from({ length: 2 * LIVE }, (_, b) => Array.from({ length: BATCH }, (_, i) => objectKey((b * BATCH + i).toString(16).padStart(16, '0'), 'x')));
const manager = new StorageManager({ l1: { capacityBytes: 4 * LIVE * BATCH * CHUNK }, l2: [new MemoryL2Adapter({ capacityBytes: 4 * LIVE * BATCH * CHUNK })] });
let next = 0;
async function round() {
  const b = next; next = (b + 1) % all.length; const keys = all[b];
  const r = manager.reserve(keys, layout); for (const o of r.objects) o?.data.fill(b & 0xff); r.commit();
  await manager.flush();
  const lease = manager.prefetch(keys, layout); await lease.ready; lease.objects(); lease.release();
  await manager.delete(all[(b + LIVE) % all.length]);
  return 2 * BATCH;
}
const tel = await startTelemetry({ env: {}, serviceName: 'x', registerGlobal: false, exporters: ['none'],
  traces: { spanProcessors: process.env.EXP === 'none' ? [new BatchSpanProcessor({ export(s, cb) { cb({ code: 0 }); }, shutdown: async () => {} })] : [], exporters: [process.env.EXP ?? 'none'], otlp: { endpoint: 'http://127.0.0.1:14318/v1/traces', protocol: 'http/protobuf' }, sampler: { name: 'always_on' } } });
const cm = new AsyncLocalStorageContextManager();
const phases = { none() {}, als() { context.setGlobalContextManager(cm.enable()); context.with(trace.setSpanContext(context.active(), { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }), () => {}); }, prov() { trace.setGlobalTracerProvider(tel.tracerProvider); }, both() { context.setGlobalContextManager(cm.enable()); trace.setGlobalTracerProvider(tel.tracerProvider); } };
const leave = () => { trace.disable(); context.disable(); cm.disable(); };
const res = {};
for (let c = 0; c < 8; c++) for (const [name, enter] of Object.entries(phases).filter(([n]) => (process.env.PH ?? 'none,als,prov,both').split(',').includes(n))) {
  enter(); const s = performance.now() + 100; while (performance.now() < s) await round();
  const cpu0 = process.cpuUsage(); const end = performance.now() + 400; let ops = 0;
  while (performance.now() < end) ops += await round();
  await tel.forceFlush(); const cpu = process.cpuUsage(cpu0); leave();
  (res[name] ??= []).push(ops / ((cpu.user + cpu.system) / 1e6));
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [k, v] of Object.entries(res)) console.log(k, Math.round(med(v)), (med(v.map((x, i) => x / (res.none?.[i] ?? x)))).toFixed(3));
await tel.shutdown(); await manager.close();
