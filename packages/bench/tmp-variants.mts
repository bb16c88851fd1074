import { Redis } from 'ioredis';
import { crc32 } from 'node:zlib';
import { spawn } from 'node:child_process';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { MemoryLayout, objectKey } from '@tierkv/core';
const port = 23457;
const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const r = new Redis(port);
const a = new RedisL2Adapter({ url: `redis://127.0.0.1:${port}` }); await a.ready();
const SIZE = Number(process.argv[2] ?? 256 * 1024), BATCH = 16;
const src = Array.from({ length: BATCH }, (_, j) => Buffer.alloc(SIZE, j));
const items = src.map((b, j) => ({ key: objectKey(j.toString(16).padStart(16, '0'), 'm'), layout: MemoryLayout.bytes(SIZE), data: new Uint8Array(b.buffer, b.byteOffset, SIZE) }));
const variants: [string, () => Promise<unknown>][] = [
  ['raw', async () => { const p = r.pipeline(); src.forEach((b, j) => p.set('k' + j, b)); await p.exec(); }],
  ['fresh+crc+strlen', async () => { const p = r.pipeline(); src.forEach((b, j) => { const o = Buffer.allocUnsafe(SIZE + 24); o.writeUInt32BE(crc32(b), 0); o.set(b, 24); p.strlen('k' + j); p.set('k' + j, o); }); await p.exec(); }],
  ['fresh+crc', async () => { const p = r.pipeline(); src.forEach((b, j) => { const o = Buffer.allocUnsafe(SIZE + 24); o.writeUInt32BE(crc32(b), 0); o.set(b, 24); p.set('k' + j, o); }); await p.exec(); }],
  ['adapter', () => a.store(items)],
  ['copy only', async () => { const p = r.pipeline(); src.forEach((b, j) => { const o = Buffer.allocUnsafe(SIZE + 24); o.set(b, 24); p.set('k' + j, o); }); await p.exec(); }],
  ['crc only', async () => { const p = r.pipeline(); src.forEach((b, j) => { crc32(b); p.set('k' + j, b); }); await p.exec(); }],
  ['multi set+append+crc', async () => { const p = r.pipeline(); src.forEach((b, j) => { const h = Buffer.allocUnsafe(24); h.writeUInt32BE(crc32(b), 0); p.multi(); p.set('k' + j, h); p.append('k' + j, b); p.exec(); }); await p.exec(); }],
];
const time = variants.map(() => 0); let rounds = 0;
const t = performance.now();
while (performance.now() - t < 8000) { for (let i = 0; i < variants.length; i++) { const t0 = performance.now(); await variants[i]![1](); time[i]! += performance.now() - t0; } rounds++; }
variants.forEach(([n], i) => console.log(n.padEnd(20), (rounds * BATCH * SIZE / (time[i]! / 1000) / 1e9).toFixed(3), 'GB/s', (time[0]! / time[i]!).toFixed(2)));
r.disconnect(); await a.close(); child.kill('SIGKILL');
