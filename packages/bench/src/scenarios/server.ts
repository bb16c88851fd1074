import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { encodeKey, MemoryLayout, type ObjectKey } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { benchKeys } from '../support/bench-keys.js';
import { pattern } from '../support/payload.js';
import { startRedis, type BenchRedis } from '../support/redis-server.js';
import { QUICK_BUDGET_MS, rateAsync } from '../timing.js';

const MIB = 1024 * 1024;
/** Distinct 1 MiB objects; rounds rotate over them (overwriting on store). */
const OBJECTS = 64;
/** Requests in flight for the 1 MiB figures, on both sides. */
const BULK_IN_FLIGHT = 4;
const L1_BYTES = 512 * MIB;

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/**
 * The tierkv server in its own process, as it runs in production (MP mode: the server owns the
 * cache, inference workers talk to it), so client and server do not share one event loop, just
 * as ioredis and redis-server do not. L1 only: Redis keeps the bytes in memory too.
 */
async function startTierkvServer(): Promise<{ endpoint: string; child: ChildProcess }> {
  const server = import.meta.resolve('@tierkv/server');
  const storage = import.meta.resolve('@tierkv/storage');
  const code = `
    const { TierkvServer } = await import(${JSON.stringify(server)});
    const { StorageManager } = await import(${JSON.stringify(storage)});
    const storage = new StorageManager({ l1: { capacityBytes: ${L1_BYTES} } });
    const s = new TierkvServer({ storage, port: 0, httpPort: null, maxInFlightPerClient: 256 });
    const a = await s.start();
    process.stdout.write(JSON.stringify(a) + '\\n');
    process.on('SIGTERM', () => s.shutdown().then(() => process.exit(0)));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the tierkv server process did not start within 15 s')), 15_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`the tierkv server process exited with ${code}`)));
  });
  return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, child };
}

interface Peers {
  redisServer: BenchRedis;
  serverChild: ChildProcess;
  redis: Redis;
  client: TierkvClient;
}

let peers: Peers | undefined;
const layout = MemoryLayout.bytes(MIB);

async function setup(): Promise<void> {
  const [r, s] = await Promise.all([startRedis(), startTierkvServer()]);
  const redis = new Redis(r.url, { maxRetriesPerRequest: 1 });
  const client = new TierkvClient({ endpoint: s.endpoint, layout, timeoutMs: 30_000 });
  await client.ping();
  await redis.ping();
  peers = { redisServer: r, serverChild: s.child, redis, client };
}

async function teardown(): Promise<void> {
  const p = peers;
  peers = undefined;
  if (!p) return;
  p.client.close();
  p.redis.disconnect();
  await Promise.all([stopChild(p.serverChild, 'SIGTERM'), p.redisServer.stop()]);
}

/** Runs `count` calls with at most `inFlight` at once; returns `count`. */
async function pump(count: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count) await call(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  return count;
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function run(ctx: BenchContext): Promise<BenchMeasurement[]> {
  if (!peers) await setup();
  const { redis, client } = peers!;
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  const keys: ObjectKey[] = benchKeys(OBJECTS, 1_000_000);
  const redisKeys = keys.map((k) => `bench:server:${encodeKey(k)}`);
  const sources = Array.from({ length: 8 }, (_, i) => pattern(MIB, i));
  const perRound = 16;

  // 1 MiB store: one chunk per request, BULK_IN_FLIGHT requests at once, rotating over OBJECTS keys.
  let s = 0;
  const tierkvStore = await rateAsync(budget, async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = s++ % OBJECTS;
      const res = await client.store([keys[i]!], [sources[i % sources.length]!], { mode: 'all' });
      if (!res.stored[0]) throw new Error(`tierkv server did not store chunk ${i}`);
    });
    return perRound * MIB;
  });
  s = 0;
  const redisSet = await rateAsync(budget, async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = s++ % OBJECTS;
      await redis.set(redisKeys[i]!, asBuffer(sources[i % sources.length]!));
    });
    return perRound * MIB;
  });

  // 1 MiB retrieve of what was just stored (every key written at least once in the store phase).
  for (let i = 0; i < OBJECTS; i++) {
    await client.store([keys[i]!], [sources[i % sources.length]!], { mode: 'all' });
    await redis.set(redisKeys[i]!, asBuffer(sources[i % sources.length]!));
  }
  let g = 0;
  const tierkvRetrieve = await rateAsync(budget, async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = g++ % OBJECTS;
      const got = await client.retrieve([keys[i]!]);
      if (got.chunks[0]?.byteLength !== MIB) throw new Error(`tierkv server returned no chunk for key ${i}`);
    });
    return perRound * MIB;
  });
  g = 0;
  const redisGet = await rateAsync(budget, async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = g++ % OBJECTS;
      const got = await redis.getBuffer(redisKeys[i]!);
      if (got?.byteLength !== MIB) throw new Error(`redis returned no value for key ${i}`);
    });
    return perRound * MIB;
  });
  const check = await client.retrieve([keys[3]!]);
  if (Buffer.compare(asBuffer(check.chunks[0]!), asBuffer(sources[3]!)) !== 0) throw new Error('tierkv server returned different bytes than were stored');

  const bulkNote = `one 1 MiB chunk per request, ${BULK_IN_FLIGHT} in flight, server in its own process (L1 only), loopback redis-server`;
  const out: BenchMeasurement[] = [
    { subject: 'redis SET 1 MiB (ioredis)', value: redisSet, unit: 'B/s', note: bulkNote },
    { subject: 'tierkv server store 1 MiB (TierkvClient)', value: tierkvStore, unit: 'B/s', reference: 'redis SET 1 MiB (ioredis)', goal: 1 },
    { subject: 'redis GET 1 MiB (ioredis getBuffer)', value: redisGet, unit: 'B/s', note: bulkNote },
    { subject: 'tierkv server retrieve 1 MiB (TierkvClient)', value: tierkvRetrieve, unit: 'B/s', reference: 'redis GET 1 MiB (ioredis getBuffer)', goal: 1 },
  ];

  // Small requests: ping and a one-key lookup (no prefetch), with 1 and 32 in flight.
  const small = 64;
  const probe = [keys[0]!];
  for (const inFlight of [1, 32]) {
    const ping = await rateAsync(budget, () => pump(small, inFlight, () => client.ping()));
    const lookup = await rateAsync(budget, () => pump(small, inFlight, () => client.lookup(probe, { prefetch: false })));
    const rping = await rateAsync(budget, () => pump(small, inFlight, () => redis.ping()));
    const rexists = await rateAsync(budget, () => pump(small, inFlight, () => redis.exists(redisKeys[0]!)));
    const note = `${inFlight} in flight on one connection`;
    out.push(
      { subject: `redis PING (${inFlight} in flight)`, value: rping, unit: 'ops/s', note },
      { subject: `tierkv server ping (${inFlight} in flight)`, value: ping, unit: 'ops/s', reference: `redis PING (${inFlight} in flight)` },
      { subject: `redis EXISTS 1 key (${inFlight} in flight)`, value: rexists, unit: 'ops/s', note },
      { subject: `tierkv server lookup 1 key (${inFlight} in flight)`, value: lookup, unit: 'ops/s', reference: `redis EXISTS 1 key (${inFlight} in flight)` },
    );
  }
  return out;
}

export const serverScenario: BenchScenario = {
  name: 'server',
  description: 'MP-mode server + TierkvClient over ZeroMQ: 1 MiB store/retrieve throughput vs Redis SET/GET via ioredis, and small-request rates',
  peers: ['ioredis 5', 'redis-server'],
  requires: ['redis-server'],
  setup,
  run,
  teardown,
};
