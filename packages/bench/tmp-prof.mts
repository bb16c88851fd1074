import { spawn } from 'node:child_process';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { MemoryLayout, objectKey } from '@tierkv/core';
const port = 23458;
const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const a = new RedisL2Adapter({ url: `redis://127.0.0.1:${port}` }); await a.ready();
const SIZE = 262144, BATCH = 16;
const src = Array.from({ length: BATCH }, (_, j) => Buffer.alloc(SIZE, j));
const items = src.map((b, j) => ({ key: objectKey(j.toString(16).padStart(16, '0'), 'm'), layout: MemoryLayout.bytes(SIZE), data: new Uint8Array(b.buffer, b.byteOffset, SIZE) }));
const t = performance.now(); let n = 0;
while (performance.now() - t < 5000) { await a.store(items); n++; }
console.log((n * BATCH * SIZE / 5 / 1e9).toFixed(3), 'GB/s');
await a.close(); child.kill('SIGKILL');
