#!/usr/bin/env node
// Ping or 1-key lookup, 32 in flight, against a tierkv server over tierkv+tcp in its own process and
// against redis-server via ioredis, alternating 250 ms slices; prints the median rate ratio and the
// client's CPU per request. A quicker, focused version of the `server` scenario's small-request
// lines, used for the figures in docs/benchmarks.md (server: small requests). After `npm run build`:
//
//   node packages/bench/scripts/small-requests.mjs lookup [seconds]
//   node packages/bench/scripts/small-requests.mjs ping [seconds]
//   TIERKV_BENCH_SERVER_PROF=/tmp/prof node packages/bench/scripts/small-requests.mjs lookup   # server CPU profile
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
import { startRedis } from '../dist/support/redis-server.js';

const what = process.argv[2] ?? 'lookup';
const seconds = Number(process.argv[3] ?? 6);
if (what !== 'lookup' && what !== 'ping') throw new Error(`expected lookup or ping, got ${what}`);

const code = `const { TierkvServer } = await import(${JSON.stringify(import.meta.resolve('@tierkv/server'))});
const { StorageManager } = await import(${JSON.stringify(import.meta.resolve('@tierkv/storage'))});
const s = new TierkvServer({ storage: new StorageManager({ l1: { capacityBytes: 1 << 28 } }), port: 0, httpPort: null, maxInFlightPerClient: 256, transport: 'tcp' });
process.stdout.write(JSON.stringify(await s.start()) + '\\n');
process.on('SIGTERM', () => s.shutdown().then(() => process.exit(0)));`;
const prof = process.env['TIERKV_BENCH_SERVER_PROF'];
const child = spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
const { endpoint } = JSON.parse(await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve)));
const redisServer = await startRedis();
const redis = new Redis(redisServer.url);
const tcp = new TierkvClient({ endpoint, layout: MemoryLayout.bytes(4096), timeoutMs: 30_000 });
const key = objectKey('00000000000f4240', 'bench');
await tcp.store([key], [new Uint8Array(4096)], { mode: 'all' });
await redis.set('bench:small', 'v');

const subjects =
  what === 'ping'
    ? [['tierkv', () => tcp.ping()], ['redis', () => redis.ping()]]
    : [['tierkv', () => tcp.lookup([key], { prefetch: false })], ['redis', () => redis.exists('bench:small')]];
async function pump(call, count = 64, inFlight = 32) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return count;
}
const rate = { tierkv: [], redis: [] };
const cpu = { tierkv: [], redis: [] };
for (let slice = 0; slice < seconds * 2; slice++) {
  for (const [name, call] of slice % 2 ? [...subjects].reverse() : subjects) {
    let n = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    while (performance.now() - t0 < 250) n += await pump(call);
    const c = process.cpuUsage(c0);
    rate[name].push((n / (performance.now() - t0)) * 1000);
    cpu[name].push((c.user + c.system) / n);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ratio = median(rate.tierkv.map((r, i) => r / rate.redis[i]));
console.log(`${what}, 32 in flight: tierkv ${median(rate.tierkv).toFixed(0)}/s, redis ${median(rate.redis).toFixed(0)}/s, ratio ${ratio.toFixed(2)}; client CPU per request: tierkv ${median(cpu.tierkv).toFixed(2)} µs, ioredis ${median(cpu.redis).toFixed(2)} µs`);
tcp.close();
redis.disconnect();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
await redisServer.stop();
