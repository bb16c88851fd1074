import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as zmq from 'zeromq';
import { CacheController, ControllerClient, OP_ADMIT, decodeReply, encodeMessage, hashesToBytes, type ControllerMsg } from '@tierkv/controller';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { DEFAULT_SLICES, QUICK_BUDGET_MS } from '../timing.js';

export const WORKERS = 64;
const QUERY_CHUNKS = 1000;
export const EVENTS_PER_BATCH = 1000;
export const SCOPE = { modelName: 'bench-model', kvRank: 0, cacheSalt: '' };

// The goals of issue 11 (docs/benchmarks.md, "Goals").
const LOOKUP_GOAL_S = 100e-6;
const REMOTE_LOOKUP_GOAL_S = 300e-6;
const INGEST_GOAL = 10_000_000;
const BYTES_PER_CHUNK_GOAL = 12;

/** A full GC, so memory deltas measure what is live (`--expose-gc` set at runtime). */
function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // Without a GC hook the delta includes some garbage: an over-estimate, never an under-estimate.
  }
}

/**
 * Two full GCs a macrotask apart: received ZeroMQ frames are external buffers freed by a callback
 * after the collection that finds them dead, so a single GC can still count some of them.
 */
async function settleGarbage(): Promise<void> {
  collectGarbage();
  await new Promise((r) => setImmediate(r));
  collectGarbage();
}

function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Deterministic 64-bit chunk hash of (sequence, chunk) as 8 bytes, written at `off`. */
export function writeHash(buf: Buffer, off: number, seq: number, chunk: number): void {
  buf.writeUInt32BE((Math.imul(seq + 1, 0x9e3779b1) ^ chunk) >>> 0, off);
  buf.writeUInt32BE((Math.imul(chunk + 1, 0x85ebca6b) ^ (seq * 7919)) >>> 0, off + 8 - 4);
}

function hashHex(seq: number, chunk: number): string {
  const b = Buffer.alloc(8);
  writeHash(b, 0, seq, chunk);
  return b.toString('hex');
}

export interface Fixture {
  controller: CacheController;
  push: zmq.Push;
  dealer: zmq.Dealer;
  seqs: number[];
}

async function request(dealer: zmq.Dealer, msg: ControllerMsg): Promise<void> {
  await dealer.send(['', encodeMessage(msg)]);
  const frames = await dealer.receive();
  const d = decodeReply(frames[frames.length - 1]!);
  if (!d.ok || d.msg.t === 'error') throw new Error(`controller refused ${msg.t}`);
}

export async function openFixture(): Promise<Fixture> {
  const controller = new CacheController({ pullPort: 0, routerPort: 0, queryPort: 0, httpPort: false, workerTimeoutMs: 3_600_000 });
  const addr = await controller.start();
  const push = new zmq.Push({ linger: 0, sendHighWaterMark: 0 });
  push.connect(addr.pull);
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  dealer.connect(addr.router);
  for (let w = 0; w < WORKERS; w++) await request(dealer, { t: 'register', instanceId: `w${w}`, workerId: 0, version: 1, seqs: {}, keyCount: 0 });
  return { controller, push, dealer, seqs: new Array<number>(WORKERS).fill(0) };
}

export async function closeFixture(f: Fixture | undefined): Promise<void> {
  if (!f) return;
  f.push.close();
  f.dealer.close();
  await f.controller.close();
}

/** One kv_batch frame of admits for (worker, sequences), numbered from the worker's next seq. */
function admitFrame(f: Fixture, worker: number, hashes: Buffer): Buffer {
  const n = hashes.length / 8;
  const seq = f.seqs[worker]!;
  f.seqs[worker] = seq + n;
  return encodeMessage({ t: 'kv_batch', instanceId: `w${worker}`, workerId: 0, location: 'l1', scope: SCOPE, seq, ops: new Uint8Array(n).fill(OP_ADMIT), hashes });
}

async function waitApplied(f: Fixture, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (f.controller.stats.ops.admitApplied < target) {
    if (Date.now() > deadline) throw new Error(`controller applied ${f.controller.stats.ops.admitApplied} of ${target} events in ${timeoutMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Fills the pool: worker w holds sequences w, w+64, w+128, … of 1000 chunks each; sequence 0 (the
 * lookup target) is also held in full by workers 1-3 and for 500 chunks by workers 4-7, so a
 * lookup finds several holders with different prefixes. Returns the chunks sent.
 */
async function fill(f: Fixture, chunks: number): Promise<number> {
  const perWorker = Math.floor(chunks / WORKERS / QUERY_CHUNKS) * QUERY_CHUNKS;
  let sent = 0;
  const sendSeq = async (worker: number, seq: number, upTo: number) => {
    const buf = Buffer.allocUnsafe(upTo * 8);
    for (let c = 0; c < upTo; c++) writeHash(buf, c * 8, seq, c);
    await f.push.send(admitFrame(f, worker, buf));
    sent += upTo;
  };
  for (let w = 1; w < 4; w++) await sendSeq(w, 0, QUERY_CHUNKS);
  for (let w = 4; w < 8; w++) await sendSeq(w, 0, QUERY_CHUNKS / 2);
  for (let k = 0; k < perWorker / QUERY_CHUNKS; k++) {
    for (let w = 0; w < WORKERS; w++) await sendSeq(w, k * WORKERS + w, QUERY_CHUNKS);
    // Keep the PULL backlog bounded so the fill measures steady state, not queueing.
    if (k % 4 === 3) await waitApplied(f, sent - WORKERS * QUERY_CHUNKS * 2, 120_000);
  }
  await waitApplied(f, sent, 120_000);
  return sent;
}

/** Seconds per call of one subject: wall clock, and process CPU time (user + system). */
interface SliceTimes {
  wall: number;
  cpu: number;
}

/**
 * Calls each subject in alternating slices (A B C, C B A, …; `DEFAULT_SLICES` of them, `budgetMs`
 * per subject in all), so load that comes and goes hits every subject alike, and times each one
 * in wall clock and in process CPU time. A subject is one call; only a returned promise is awaited.
 */
async function timedSlices(budgetMs: number, subjects: readonly (() => void | Promise<void>)[]): Promise<SliceTimes[]> {
  const totals = subjects.map(() => ({ calls: 0, ms: 0, cpuUs: 0 }));
  for (let s = 0; s < DEFAULT_SLICES; s++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = s % 2 === 0 ? k : subjects.length - 1 - k;
      const call = subjects[i]!;
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      let calls = 0;
      while (calls < 2 || performance.now() - start < budgetMs / DEFAULT_SLICES) {
        const r = call();
        if (r) await r;
        calls++;
      }
      const cpu = process.cpuUsage(cpuStart);
      const t = totals[i]!;
      t.ms += performance.now() - start;
      t.cpuUs += cpu.user + cpu.system;
      t.calls += calls;
      // Let the event loop run between slices: synchronous subjects would otherwise hold it for
      // the whole measurement, and socket events due meanwhile would pile up.
      await new Promise((r) => setImmediate(r));
    }
  }
  return totals.map((t) => ({ wall: t.ms / 1000 / t.calls, cpu: t.cpuUs / 1e6 / t.calls }));
}

/** Throws unless a lookup of sequence 0 found its 8 holders (3 + 1 in full, 4 for 500 chunks). */
function checkHolders(holders: readonly { instanceId: string; chunks: number }[], path: string): void {
  if (holders.length !== 8 || holders[0]!.chunks !== QUERY_CHUNKS || holders[7]!.chunks !== QUERY_CHUNKS / 2) {
    throw new Error(`lookup ${path} returned the wrong holders: ${holders.map((h) => `${h.instanceId}:${h.chunks}`).join(',')}`);
  }
}

let lookupFixture: Fixture | undefined;
let lookupMemory = { chunks: 0, processBytes: 0 };

/** Lookup latency and memory per chunk at 10 M chunks (1 M with --quick) over 64 workers. */
export const controllerLookupScenario: BenchScenario = {
  name: 'controller.lookup',
  description:
    'Prefix lookup of a 1000-chunk sequence across 64 workers holding 10 M chunks (1 M quick): in process, over ZeroMQ and over the TCP query listener, with hex and binary hashes; and KV pool bytes per chunk',
  async setup(ctx: BenchContext): Promise<void> {
    await settleGarbage();
    const before = liveBytes();
    lookupFixture = await openFixture();
    const chunks = await fill(lookupFixture, ctx.quick ? 1_000_000 : 10_000_000);
    await settleGarbage();
    lookupMemory = { chunks, processBytes: liveBytes() - before };
    ctx.log(`controller.lookup: ${chunks} chunks in the pool`);
  },
  async run(ctx): Promise<BenchMeasurement[]> {
    const f = lookupFixture!;
    const query = Array.from({ length: QUERY_CHUNKS }, (_, c) => hashHex(0, c));
    const bytes = hashesToBytes(query);
    checkHolders(f.controller.lookup({ hashes: query }, SCOPE), 'in process');
    checkHolders(f.controller.lookup({ hashes: bytes }, SCOPE), 'in process, binary hashes');
    const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
    // The sockets are idle meanwhile, so process CPU time is the lookup's: what it costs when the
    // machine is shared, where wall time also counts the time the process waited for a core.
    const [inHex, inBytes] = await timedSlices(budget, [() => void f.controller.lookup({ hashes: query }, SCOPE), () => void f.controller.lookup({ hashes: bytes }, SCOPE)]);
    const zmq = new ControllerClient({ router: f.controller.addresses.router });
    const tcp = new ControllerClient({ query: f.controller.addresses.query! });
    let wire: SliceTimes[];
    try {
      checkHolders(await zmq.lookup({ hashes: query }, SCOPE), 'over ZeroMQ');
      checkHolders(await tcp.lookup({ hashes: bytes }, SCOPE), 'over the TCP query listener');
      wire = await timedSlices(budget, [
        async () => void (await zmq.lookup({ hashes: query }, SCOPE)),
        async () => void (await zmq.lookup({ hashes: bytes }, SCOPE)),
        async () => void (await tcp.lookup({ hashes: query }, SCOPE)),
        async () => void (await tcp.lookup({ hashes: bytes }, SCOPE)),
      ]);
    } finally {
      zmq.close();
      tcp.close();
    }
    const [zmqHex, zmqBytes, tcpHex, tcpBytes] = wire as [SliceTimes, SliceTimes, SliceTimes, SliceTimes];
    const usage = f.controller.poolUsage();
    const note = `${usage.keys.toLocaleString('en')} chunks, ${WORKERS} workers, 8 holders of the query`;
    const hex = 'hex hashes (16 characters each)';
    const bin = 'binary hashes (one 8000-byte Uint8Array): no hex decode';
    const IN = 'controller lookup, 1000 chunks (in process)';
    const ZMQ = 'controller lookup, 1000 chunks (ZeroMQ round trip)';
    const TCP = 'controller lookup, 1000 chunks (TCP query round trip)';
    return [
      { subject: IN, value: inHex.wall, unit: 's', goal: LOOKUP_GOAL_S, note: `${note}; ${hex}` },
      { subject: 'controller lookup, 1000 chunks (in process, CPU time)', value: inHex.cpu, unit: 's', note: 'process CPU time (user + system) of the in-process loop per lookup' },
      { subject: 'controller lookup, 1000 chunks (in process, binary hashes)', value: inBytes.wall, unit: 's', reference: IN, note: bin },
      // Compared to the TCP round trip: the ratio is the ROUTER's speed as a fraction of the query listener's.
      { subject: ZMQ, value: zmqHex.wall, unit: 's', reference: TCP, note: `ControllerClient over the ROUTER; ${hex}` },
      { subject: 'controller lookup, 1000 chunks (ZeroMQ round trip, binary hashes)', value: zmqBytes.wall, unit: 's', reference: ZMQ, note: bin },
      {
        subject: TCP,
        value: tcpHex.wall,
        unit: 's',
        goal: REMOTE_LOOKUP_GOAL_S,
        note: `ControllerClient over the plain-TCP query listener (queryPort); ${hex}`,
      },
      { subject: 'controller lookup, 1000 chunks (TCP query round trip, CPU time)', value: tcpHex.cpu, unit: 's', note: 'process CPU time (user + system, both ends and every thread) per round trip' },
      { subject: 'controller lookup, 1000 chunks (TCP query round trip, binary hashes)', value: tcpBytes.wall, unit: 's', reference: TCP, note: bin },
      { subject: 'KV pool hash sets per chunk', value: usage.bytes / usage.keys, unit: 'B/chunk', goal: BYTES_PER_CHUNK_GOAL, note },
      {
        subject: 'controller process memory per chunk',
        value: lookupMemory.processBytes / lookupMemory.chunks,
        unit: 'B/chunk',
        goal: BYTES_PER_CHUNK_GOAL,
        note: 'heap + ArrayBuffers after a full GC, minus the same before the controller started',
      },
    ];
  },
  async teardown(): Promise<void> {
    await closeFixture(lookupFixture);
    lookupFixture = undefined;
  },
};

let ingestFixture: Fixture | undefined;

/** Events per second from PUSH sockets into the pool, in batches of 1000, over loopback TCP. */
export const controllerIngestScenario: BenchScenario = {
  name: 'controller.ingest',
  description: 'KV admit/evict events ingested per second over real ZeroMQ sockets (batches of 1000 events)',
  async setup(): Promise<void> {
    ingestFixture = await openFixture();
  },
  async run(ctx): Promise<BenchMeasurement[]> {
    const f = ingestFixture!;
    // Admit a batch, then evict it: the pool stays small and every event does real work.
    const batches = ctx.quick ? 200 : 2000;
    const hashes = Buffer.allocUnsafe(EVENTS_PER_BATCH * 8);
    const frames: Buffer[] = [];
    for (let b = 0; b < batches; b++) {
      const w = b % WORKERS;
      for (let c = 0; c < EVENTS_PER_BATCH; c++) writeHash(hashes, c * 8, 1_000_000 + b, c);
      const n = EVENTS_PER_BATCH;
      const seq = f.seqs[w]!;
      f.seqs[w] = seq + 2 * n;
      const ops = new Uint8Array(2 * n);
      ops.fill(1, n);
      frames.push(encodeMessage({ t: 'kv_batch', instanceId: `w${w}`, workerId: 0, location: 'l1', scope: SCOPE, seq, ops, hashes: Buffer.concat([hashes, hashes]) }));
    }
    const stats = f.controller.stats;
    const base = stats.ops.admitApplied + stats.ops.evictApplied;
    const target = base + batches * 2 * EVENTS_PER_BATCH;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    for (const frame of frames) await f.push.send(frame);
    const deadline = Date.now() + 120_000;
    while (stats.ops.admitApplied + stats.ops.evictApplied < target) {
      if (Date.now() > deadline) throw new Error('events were not all applied within 120 s');
      await new Promise((r) => setImmediate(r));
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (stats.discontinuities > 0) throw new Error(`sequence gaps on a lossless socket: ${stats.discontinuities}`);
    return [
      {
        subject: 'controller event ingestion (PUSH → PULL → pool)',
        value: (batches * 2 * EVENTS_PER_BATCH) / seconds,
        unit: 'events/s',
        goal: INGEST_GOAL,
        note: `${batches} frames of ${2 * EVENTS_PER_BATCH} events (admit then evict), ${WORKERS} workers`,
      },
      {
        subject: 'controller event ingestion per second of CPU time',
        value: (batches * 2 * EVENTS_PER_BATCH) / cpuSeconds,
        unit: 'events/s',
        note: 'process CPU time (user + system, every thread: the PUSH sender and ZeroMQ I/O too) of the same run',
      },
    ];
  },
  async teardown(): Promise<void> {
    await closeFixture(ingestFixture);
    ingestFixture = undefined;
  },
};
