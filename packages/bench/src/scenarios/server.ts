import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { encodeKey, MemoryLayout, type ObjectKey } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { benchKeys } from '../support/bench-keys.js';
import { pattern } from '../support/payload.js';
import { startRedis, type BenchRedis } from '../support/redis-server.js';
import { interleaveAsync, QUICK_BUDGET_MS } from '../timing.js';

const MIB = 1024 * 1024;
/** Distinct 1 MiB objects; rounds rotate over them (overwriting on store). */
const OBJECTS = 64;
/** Requests in flight for the 1 MiB figures, on both sides. */
const BULK_IN_FLIGHT = 4;
const L1_BYTES = 512 * MIB;
/** The prefix sub-scenario: one request for this many chunks of this size. */
const PREFIX_CHUNKS = 32;
const PREFIX_CHUNK_BYTES = 256 * 1024;

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
 * A tierkv server in its own process, as it runs in production (MP mode: the server owns the
 * cache, inference workers talk to it), so client and server do not share one event loop, just
 * as ioredis and redis-server do not. L1 only: Redis keeps the bytes in memory too.
 */
async function startTierkvServer(transport: 'tcp' | 'zeromq'): Promise<{ endpoint: string; child: ChildProcess }> {
  const server = import.meta.resolve('@tierkv/server');
  const storage = import.meta.resolve('@tierkv/storage');
  const code = `
    const { TierkvServer } = await import(${JSON.stringify(server)});
    const { StorageManager } = await import(${JSON.stringify(storage)});
    const storage = new StorageManager({ l1: { capacityBytes: ${L1_BYTES} } });
    const s = new TierkvServer({ storage, port: 0, httpPort: null, maxInFlightPerClient: 256, transport: ${JSON.stringify(transport)} });
    const a = await s.start();
    process.stdout.write(JSON.stringify(a) + '\\n');
    process.on('SIGTERM', () => s.shutdown().then(() => process.exit(0)));
  `;
  // TIERKV_BENCH_SERVER_PROF=<dir>: the server processes write CPU profiles there (node --cpu-prof).
  const prof = process.env['TIERKV_BENCH_SERVER_PROF'];
  const flags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  children: ChildProcess[];
  redis: Redis;
  /** The server over plain TCP (`tierkv+tcp://`), and the same server code over ZeroMQ. */
  tcp: TierkvClient;
  zmq: TierkvClient;
}

let peers: Peers | undefined;
const layout = MemoryLayout.bytes(MIB);
const prefixLayout = MemoryLayout.bytes(PREFIX_CHUNK_BYTES);

async function setup(): Promise<void> {
  const [r, t, z] = await Promise.all([startRedis(), startTierkvServer('tcp'), startTierkvServer('zeromq')]);
  const redis = new Redis(r.url, { maxRetriesPerRequest: 1 });
  const tcp = new TierkvClient({ endpoint: t.endpoint, layout, timeoutMs: 30_000 });
  const zmq = new TierkvClient({ endpoint: z.endpoint, layout, timeoutMs: 30_000 });
  await Promise.all([tcp.ping(), zmq.ping(), redis.ping()]);
  peers = { redisServer: r, children: [t.child, z.child], redis, tcp, zmq };
}

async function teardown(): Promise<void> {
  const p = peers;
  peers = undefined;
  if (!p) return;
  p.tcp.close();
  p.zmq.close();
  p.redis.disconnect();
  await Promise.all([...p.children.map((c) => stopChild(c, 'SIGTERM')), p.redisServer.stop()]);
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
  const { redis, tcp, zmq } = peers!;
  const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
  const keys: ObjectKey[] = benchKeys(OBJECTS, 1_000_000);
  const redisKeys = keys.map((k) => `bench:server:${encodeKey(k)}`);
  const sources = Array.from({ length: 8 }, (_, i) => pattern(MIB, i));
  const perRound = 16;
  const clients = [tcp, zmq];

  // 1 MiB store: one chunk per request, BULK_IN_FLIGHT requests at once, rotating over OBJECTS keys.
  const storeRound = (client: TierkvClient) => {
    let s = 0;
    return async () => {
      await pump(perRound, BULK_IN_FLIGHT, async () => {
        const i = s++ % OBJECTS;
        const res = await client.store([keys[i]!], [sources[i % sources.length]!], { mode: 'all' });
        if (!res.stored[0]) throw new Error(`tierkv server did not store chunk ${i}`);
      });
      return perRound * MIB;
    };
  };
  let rs = 0;
  const redisSetRound = async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = rs++ % OBJECTS;
      await redis.set(redisKeys[i]!, asBuffer(sources[i % sources.length]!));
    });
    return perRound * MIB;
  };
  const [tcpStore, zmqStore, redisSet] = await interleaveAsync(budget, [storeRound(tcp), storeRound(zmq), redisSetRound]);

  // 1 MiB retrieve of what was just stored (every key written at least once).
  for (let i = 0; i < OBJECTS; i++) {
    for (const c of clients) await c.store([keys[i]!], [sources[i % sources.length]!], { mode: 'all' });
    await redis.set(redisKeys[i]!, asBuffer(sources[i % sources.length]!));
  }
  const retrieveRound = (client: TierkvClient) => {
    let g = 0;
    return async () => {
      await pump(perRound, BULK_IN_FLIGHT, async () => {
        const i = g++ % OBJECTS;
        const got = await client.retrieve([keys[i]!]);
        if (got.chunks[0]?.byteLength !== MIB) throw new Error(`tierkv server returned no chunk for key ${i}`);
      });
      return perRound * MIB;
    };
  };
  let rg = 0;
  const redisGetRound = async () => {
    await pump(perRound, BULK_IN_FLIGHT, async () => {
      const i = rg++ % OBJECTS;
      const got = await redis.getBuffer(redisKeys[i]!);
      if (got?.byteLength !== MIB) throw new Error(`redis returned no value for key ${i}`);
    });
    return perRound * MIB;
  };
  const [tcpRetrieve, zmqRetrieve, redisGet] = await interleaveAsync(budget, [retrieveRound(tcp), retrieveRound(zmq), redisGetRound]);
  for (const c of clients) {
    const check = await c.retrieve([keys[3]!]);
    if (Buffer.compare(asBuffer(check.chunks[0]!), asBuffer(sources[3]!)) !== 0) throw new Error(`tierkv server (${c.endpoint}) returned different bytes than were stored`);
  }

  // A 32-chunk prefix of 256 KiB chunks: one retrieve request against 32 pipelined GETs.
  const prefixKeys = benchKeys(PREFIX_CHUNKS, 2_000_000);
  const prefixRedisKeys = prefixKeys.map((k) => `bench:server:prefix:${encodeKey(k)}`);
  const prefixChunks = prefixKeys.map((_, i) => pattern(PREFIX_CHUNK_BYTES, i));
  for (const c of clients) {
    const res = await c.store(prefixKeys, prefixChunks, { mode: 'all', layout: prefixLayout });
    if (res.storedCount !== PREFIX_CHUNKS) throw new Error(`tierkv server stored ${res.storedCount} of the ${PREFIX_CHUNKS} prefix chunks`);
  }
  await Promise.all(prefixRedisKeys.map((k, i) => redis.set(k, asBuffer(prefixChunks[i]!))));
  const prefixBytes = PREFIX_CHUNKS * PREFIX_CHUNK_BYTES;
  // `into`: the caller's buffers, reused every round (as an inference engine reuses its KV pages).
  const prefixInto = prefixKeys.map(() => new Uint8Array(PREFIX_CHUNK_BYTES));
  const prefixRound = (client: TierkvClient, into?: Uint8Array[]) => async () => {
    const got = await client.retrieve(prefixKeys, { layout: prefixLayout, ...(into ? { into } : {}) });
    if (got.chunks.length !== PREFIX_CHUNKS) throw new Error(`tierkv server returned ${got.chunks.length} of ${PREFIX_CHUNKS} prefix chunks`);
    return prefixBytes;
  };
  const redisPipelineRound = async () => {
    const pipe = redis.pipeline();
    for (const k of prefixRedisKeys) pipe.getBuffer(k);
    const res = await pipe.exec();
    if (res?.length !== PREFIX_CHUNKS || res.some(([err, v]) => err || (v as Buffer | null)?.byteLength !== PREFIX_CHUNK_BYTES)) throw new Error('redis pipeline did not return every prefix chunk');
    return prefixBytes;
  };
  const [tcpPrefix, tcpPrefixInto, zmqPrefix, redisPrefix] = await interleaveAsync(budget, [prefixRound(tcp), prefixRound(tcp, prefixInto), prefixRound(zmq), redisPipelineRound]);
  for (const into of [undefined, prefixInto.map(() => new Uint8Array(PREFIX_CHUNK_BYTES))]) {
    const checkPrefix = await tcp.retrieve(prefixKeys, { layout: prefixLayout, ...(into ? { into } : {}) });
    checkPrefix.chunks.forEach((c, i) => {
      if (Buffer.compare(asBuffer(c), asBuffer(prefixChunks[i]!)) !== 0) throw new Error(`tierkv server returned different bytes for prefix chunk ${i}`);
    });
  }

  const bulkNote = `one 1 MiB chunk per request, ${BULK_IN_FLIGHT} in flight, server in its own process (L1 only), loopback redis-server; interleaved`;
  const prefixNote = `${PREFIX_CHUNKS} × 256 KiB per request, 1 in flight; interleaved`;
  const out: BenchMeasurement[] = [
    { subject: 'redis SET 1 MiB (ioredis)', value: redisSet, unit: 'B/s', note: bulkNote },
    { subject: 'tierkv server store 1 MiB (tierkv+tcp)', value: tcpStore, unit: 'B/s', reference: 'redis SET 1 MiB (ioredis)', goal: 1 },
    { subject: 'tierkv server store 1 MiB (zeromq)', value: zmqStore, unit: 'B/s', reference: 'redis SET 1 MiB (ioredis)' },
    { subject: 'redis GET 1 MiB (ioredis getBuffer)', value: redisGet, unit: 'B/s', note: bulkNote },
    { subject: 'tierkv server retrieve 1 MiB (tierkv+tcp)', value: tcpRetrieve, unit: 'B/s', reference: 'redis GET 1 MiB (ioredis getBuffer)', goal: 1.3 },
    { subject: 'tierkv server retrieve 1 MiB (zeromq)', value: zmqRetrieve, unit: 'B/s', reference: 'redis GET 1 MiB (ioredis getBuffer)' },
    { subject: `redis ${PREFIX_CHUNKS} pipelined GETs of 256 KiB`, value: redisPrefix, unit: 'B/s', note: prefixNote },
    {
      subject: `tierkv server retrieve ${PREFIX_CHUNKS}-chunk prefix into the caller's buffers (tierkv+tcp)`,
      value: tcpPrefixInto,
      unit: 'B/s',
      reference: `redis ${PREFIX_CHUNKS} pipelined GETs of 256 KiB`,
      goal: 2,
      note: 'retrieve(keys, { into }): the same 32 buffers every round, the kernel reads each chunk straight into its buffer',
    },
    { subject: `tierkv server retrieve ${PREFIX_CHUNKS}-chunk prefix (tierkv+tcp)`, value: tcpPrefix, unit: 'B/s', reference: `redis ${PREFIX_CHUNKS} pipelined GETs of 256 KiB`, note: 'a new 8 MiB reply buffer per round' },
    { subject: `tierkv server retrieve ${PREFIX_CHUNKS}-chunk prefix (zeromq)`, value: zmqPrefix, unit: 'B/s', reference: `redis ${PREFIX_CHUNKS} pipelined GETs of 256 KiB` },
  ];

  // Small requests: ping and a one-key lookup (no prefetch), with 1 and 32 in flight.
  const small = 64;
  const probe = [keys[0]!];
  for (const inFlight of [1, 32]) {
    const [tping, zping, rping] = await interleaveAsync(budget, [
      () => pump(small, inFlight, () => tcp.ping()),
      () => pump(small, inFlight, () => zmq.ping()),
      () => pump(small, inFlight, () => redis.ping()),
    ]);
    const [tlookup, zlookup, rexists] = await interleaveAsync(budget, [
      () => pump(small, inFlight, () => tcp.lookup(probe, { prefetch: false })),
      () => pump(small, inFlight, () => zmq.lookup(probe, { prefetch: false })),
      () => pump(small, inFlight, () => redis.exists(redisKeys[0]!)),
    ]);
    const note = `${inFlight} in flight on one connection; interleaved`;
    const goal = inFlight === 32 ? { goal: 1 } : {};
    out.push(
      { subject: `redis PING (${inFlight} in flight)`, value: rping, unit: 'ops/s', note },
      { subject: `tierkv server ping (tierkv+tcp, ${inFlight} in flight)`, value: tping, unit: 'ops/s', reference: `redis PING (${inFlight} in flight)`, ...goal },
      { subject: `tierkv server ping (zeromq, ${inFlight} in flight)`, value: zping, unit: 'ops/s', reference: `redis PING (${inFlight} in flight)` },
      { subject: `redis EXISTS 1 key (${inFlight} in flight)`, value: rexists, unit: 'ops/s', note },
      { subject: `tierkv server lookup 1 key (tierkv+tcp, ${inFlight} in flight)`, value: tlookup, unit: 'ops/s', reference: `redis EXISTS 1 key (${inFlight} in flight)`, ...goal },
      { subject: `tierkv server lookup 1 key (zeromq, ${inFlight} in flight)`, value: zlookup, unit: 'ops/s', reference: `redis EXISTS 1 key (${inFlight} in flight)` },
    );
  }
  return out;
}

export const serverScenario: BenchScenario = {
  name: 'server',
  description: 'MP-mode server + TierkvClient over plain TCP (tierkv+tcp) and ZeroMQ: 1 MiB store/retrieve and a 32-chunk prefix retrieve vs Redis SET/GET via ioredis, and small-request rates, interleaved',
  peers: ['ioredis 5', 'redis-server'],
  requires: ['redis-server'],
  setup,
  run,
  teardown,
};
