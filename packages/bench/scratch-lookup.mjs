import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
const server = import.meta.resolve('@tierkv/server'); const storage = import.meta.resolve('@tierkv/storage');
const code = `const { TierkvServer } = await import(${JSON.stringify(server)}); const { StorageManager } = await import(${JSON.stringify(storage)});
const s = new TierkvServer({ storage: new StorageManager({ l1: { capacityBytes: 1<<28 } }), port: 0, httpPort: null, maxInFlightPerClient: 256, transport: 'tcp' });
const a = await s.start(); process.stdout.write(JSON.stringify(a) + '\\n'); process.on('SIGTERM', () => s.shutdown().then(() => process.exit(0)));`;
const flags = process.env.SPROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SPROF}`] : [];
const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
const line = await new Promise((r) => createInterface({ input: child.stdout }).once('line', r));
const { endpoint } = JSON.parse(line);
const client = new TierkvClient({ endpoint, layout: MemoryLayout.bytes(4096), timeoutMs: 10000 });
const probe = [objectKey('00000000000000aa', 'm')];
const op = process.env.OP ?? 'lookup';
async function pump(ms) { let n = 0; const end = performance.now() + ms; const worker = async () => { while (performance.now() < end) { await (op === 'ping' ? client.ping() : client.lookup(probe, { prefetch: false })); n++; } }; await Promise.all(Array.from({ length: 32 }, worker)); return n / ms * 1000; }
await pump(1000);
for (let i = 0; i < 3; i++) { const c0 = process.cpuUsage(); const r = await pump(2000); const c = process.cpuUsage(c0); console.log(op, Math.round(r), 'ops/s; client CPU µs/op', ((c.user + c.system) / (r * 2)).toFixed(1)); }
client.close(); child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r));
