import * as zmq from 'zeromq';
import { CacheController, ControllerClient, VllmBlockHasher, encodeMessage, encodeVllmEventBatch, type VllmDecodedEvent, type VllmKvEvent, type VllmPublisherInfo, type VllmScoreResult } from '@tierkv/controller';
import type { BenchContext, BenchMeasurement, BenchScenario } from '../scenario.js';
import { quantile } from '../stats.js';
import { DEFAULT_SLICES, QUICK_BUDGET_MS } from '../timing.js';
import { EVENTS_PER_BATCH, SCOPE, WORKERS, closeFixture, openFixture, writeHash, type Fixture } from './controller.js';

const MODEL = 'bench-model';
const TOPIC = 'kv@bench';
const BLOCK_TOKENS = 16;
/** Batches of EVENTS_PER_BATCH events per measured round; the view is cleared after each round. */
const ROUND_BATCHES = 10;
const DRAIN_TIMEOUT_MS = 120_000;

function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Murmur3's fmix32: a bijection on 32-bit values, so distinct inputs give distinct, well-spread outputs. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Token ids of a deterministic pseudo-prompt (distinct per `salt`). */
function tokenIds(count: number, salt: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = fmix32(i * 31 + salt * 0x9e3779b1) % 128_000;
  return out;
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${DRAIN_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setImmediate(r));
  }
}

/** One round's measured work and milliseconds; `partMs` is a named share of `ms` (e.g. hashing). */
interface Timed {
  readonly work: number;
  readonly ms: number;
  readonly partMs?: number;
}

/**
 * `interleaveAsync` for rounds that time themselves: each round prepares what must stay off the
 * clock (encoding frames) and returns only the milliseconds of the part measured. Same alternation
 * (A B, B A, …) and the same budget per subject.
 */
async function interleaveTimed(budgetMs: number, rounds: readonly (() => Promise<Timed>)[], slices = DEFAULT_SLICES): Promise<{ rate: number; partMs: number; ms: number }[]> {
  const totals = rounds.map(() => ({ work: 0, ms: 0, partMs: 0 }));
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < rounds.length; k++) {
      const i = s % 2 === 0 ? k : rounds.length - 1 - k;
      const t = totals[i]!;
      let spent = 0;
      do {
        const r = await rounds[i]!();
        t.work += r.work;
        t.ms += r.ms;
        t.partMs += r.partMs ?? 0;
        spent += r.ms;
      } while (spent < budgetMs / slices);
    }
  }
  return totals.map((t) => ({ rate: (t.work * 1000) / t.ms, partMs: t.partMs, ms: t.ms }));
}

// ---------------------------------------------------------------- vllm.ingest

interface IngestFixture {
  readonly f: Fixture;
  readonly pub: zmq.Publisher;
  readonly stats: VllmPublisherInfo['stats'];
  /** The next vLLM batch seq. */
  seq: number;
  /** Per batch of a round: the tokens the publisher hashes, and the last block hash it must get. */
  readonly tokens: number[][];
  readonly lastHash: bigint[];
  readonly hasher: VllmBlockHasher;
  /** Per batch of a round: 1000 BlockStored events, with empty token_ids / with their 16 token ids. */
  readonly hashesOnly: Buffer[];
  readonly withTokens: Buffer[];
  readonly clear: Buffer;
  /** tierkv kv_batch hashes per frame of a round (admitted then evicted). */
  readonly tierkvHashes: Buffer[];
  nextWorker: number;
}

let ingest: IngestFixture | undefined;

function storedEvents(hashes: readonly bigint[], tokens: readonly number[] | undefined): VllmKvEvent[] {
  return hashes.map((h, j) => ({
    type: 'BlockStored',
    blockHashes: [h],
    parentBlockHash: j === 0 ? null : hashes[j - 1]!,
    tokenIds: tokens ? tokens.slice(j * BLOCK_TOKENS, (j + 1) * BLOCK_TOKENS) : [],
    blockSize: BLOCK_TOKENS,
    loraId: null,
    medium: 'GPU',
    loraName: null,
  }));
}

async function openIngest(): Promise<IngestFixture> {
  const f = await openFixture();
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  try {
    await pub.bind('tcp://127.0.0.1:*');
    f.controller.vllm.add({ name: 'bench', endpoint: pub.lastEndpoint!, topic: TOPIC, model: MODEL, blockSize: BLOCK_TOKENS });
  } catch (err) {
    pub.close();
    await closeFixture(f);
    throw err;
  }
  const sub = [...f.controller.vllm.subscribers()][0]!;
  const hasher = new VllmBlockHasher({ algo: 'sha256_cbor', seed: '', blockSize: BLOCK_TOKENS });
  const tokens: number[][] = [];
  const lastHash: bigint[] = [];
  const hashesOnly: Buffer[] = [];
  const withTokens: Buffer[] = [];
  for (let b = 0; b < ROUND_BATCHES; b++) {
    const t = tokenIds(EVENTS_PER_BATCH * BLOCK_TOKENS, b + 1);
    const hashes = hasher.blockHashes(t);
    tokens.push(t);
    lastHash.push(hashes[hashes.length - 1]!);
    hashesOnly.push(encodeVllmEventBatch({ ts: 1.7e9, events: storedEvents(hashes, undefined), dataParallelRank: 0 }));
    withTokens.push(encodeVllmEventBatch({ ts: 1.7e9, events: storedEvents(hashes, t), dataParallelRank: 0 }));
  }
  const tierkvHashes: Buffer[] = [];
  for (let k = 0; k < ROUND_BATCHES / 2; k++) {
    const h = Buffer.allocUnsafe(EVENTS_PER_BATCH * 8);
    for (let c = 0; c < EVENTS_PER_BATCH; c++) writeHash(h, c * 8, 2_000_000 + k, c);
    tierkvHashes.push(Buffer.concat([h, h]));
  }
  const x: IngestFixture = {
    f,
    pub,
    stats: sub.stats,
    seq: 0,
    tokens,
    lastHash,
    hasher,
    hashesOnly,
    withTokens,
    clear: encodeVllmEventBatch({ ts: 1.7e9, events: [{ type: 'AllBlocksCleared' }], dataParallelRank: 0 }),
    tierkvHashes,
    nextWorker: 0,
  };
  // A SUB socket joins late: publish empty batches until the subscriber has seen one.
  const empty = encodeVllmEventBatch({ ts: 1.7e9, events: [], dataParallelRank: 0 });
  const deadline = Date.now() + 15_000;
  while (x.stats.batches.applied === 0) {
    if (Date.now() > deadline) throw new Error('the vLLM subscriber saw no batch within 15 s');
    await pub.send([TOPIC, u64(x.seq++), empty]);
    await new Promise((r) => setTimeout(r, 10));
  }
  return x;
}

async function closeIngest(x: IngestFixture | undefined): Promise<void> {
  if (!x) return;
  x.pub.close();
  await closeFixture(x.f);
}

/** Publishes a round's batches then one AllBlocksCleared, and waits until the subscriber applied them all. */
async function vllmRound(x: IngestFixture, payloads: readonly Buffer[], hashTokens: boolean): Promise<Timed> {
  const target = x.stats.batches.applied + payloads.length + 1;
  let hashMs = 0;
  const start = performance.now();
  for (let b = 0; b < payloads.length; b++) {
    if (hashTokens) {
      const h0 = performance.now();
      const hashes = x.hasher.blockHashes(x.tokens[b]!);
      hashMs += performance.now() - h0;
      if (hashes[hashes.length - 1] !== x.lastHash[b]) throw new Error('VllmBlockHasher is not deterministic');
    }
    await x.pub.send([TOPIC, u64(x.seq++), payloads[b]!]);
  }
  await x.pub.send([TOPIC, u64(x.seq++), x.clear]);
  await until(() => x.stats.batches.applied >= target, 'the vLLM subscriber did not apply a round');
  return { work: payloads.length * EVENTS_PER_BATCH, ms: performance.now() - start, partMs: hashMs };
}

/** The same number of tierkv events, as controller.ingest sends them: frames of 1000 admits then their 1000 evicts. */
async function tierkvRound(x: IngestFixture): Promise<Timed> {
  const f = x.f;
  const frames: Buffer[] = [];
  for (const hashes of x.tierkvHashes) {
    const w = x.nextWorker++ % WORKERS;
    const seq = f.seqs[w]!;
    f.seqs[w] = seq + 2 * EVENTS_PER_BATCH;
    const ops = new Uint8Array(2 * EVENTS_PER_BATCH);
    ops.fill(1, EVENTS_PER_BATCH);
    frames.push(encodeMessage({ t: 'kv_batch', instanceId: `w${w}`, workerId: 0, location: 'l1', scope: SCOPE, seq, ops, hashes }));
  }
  const stats = f.controller.stats;
  const target = stats.ops.admitApplied + stats.ops.evictApplied + frames.length * 2 * EVENTS_PER_BATCH;
  const start = performance.now();
  for (const frame of frames) await f.push.send(frame);
  await until(() => stats.ops.admitApplied + stats.ops.evictApplied >= target, 'the controller did not apply a round of kv_batch events');
  return { work: frames.length * 2 * EVENTS_PER_BATCH, ms: performance.now() - start };
}

const TIERKV_INGEST = 'tierkv kv_batch events (PUSH → PULL → pool)';
const VLLM_HASHES = 'vLLM BlockStored, hashes only (PUB → SUB → view)';
const VLLM_TOKENS = 'vLLM BlockStored with token_ids';
const VLLM_HASHING = 'vLLM BlockStored with token_ids, publisher hashing them (sha256_cbor)';

/** vLLM BlockStored events per second through the controller's subscriber, against tierkv's own events. */
export const vllmIngestScenario: BenchScenario = {
  name: 'vllm.ingest',
  description: 'vLLM BlockStored events (16-token blocks, batches of 1000) ingested per second over ZeroMQ PUB → SUB, without and with sha256_cbor hashing of token ids, vs tierkv kv_batch events',
  async setup(): Promise<void> {
    ingest = await openIngest();
  },
  async run(ctx: BenchContext): Promise<BenchMeasurement[]> {
    const x = ingest!;
    // One batch first: it must land in the pool as 1000 GPU blocks, and the clear must empty it.
    await x.pub.send([TOPIC, u64(x.seq++), x.withTokens[0]!]);
    const name = 'bench';
    const blocks = () => x.f.controller.vllm.list().find((p) => p.name === name)?.blocks ?? {};
    await until(() => (blocks().gpu ?? 0) === EVENTS_PER_BATCH, 'a batch of 1000 BlockStored did not reach the pool');
    await vllmRound(x, [], false);
    if ((blocks().gpu ?? 0) !== 0) throw new Error(`AllBlocksCleared left ${JSON.stringify(blocks())}`);

    const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
    const [tierkv, hashesOnly, withTokens, hashing] = await interleaveTimed(budget, [
      () => tierkvRound(x),
      () => vllmRound(x, x.hashesOnly, false),
      () => vllmRound(x, x.withTokens, false),
      () => vllmRound(x, x.withTokens, true),
    ]);
    const errors = Object.values(x.stats.decodeErrors).reduce((a, b) => a + b, 0);
    if (x.stats.seqGaps > 0 || errors > 0) throw new Error(`the vLLM subscriber saw ${x.stats.seqGaps} seq gaps and ${errors} decode errors on a lossless socket`);
    if (x.f.controller.stats.discontinuities > 0) throw new Error(`sequence gaps on a lossless socket: ${x.f.controller.stats.discontinuities}`);
    const hashedBlocksPerS = hashing!.partMs > 0 ? (hashing!.rate * hashing!.ms) / hashing!.partMs : 0;
    return [
      { subject: TIERKV_INGEST, value: tierkv!.rate, unit: 'events/s', note: `${ROUND_BATCHES / 2} frames of ${2 * EVENTS_PER_BATCH} events (admit then evict) per round, ${WORKERS} workers` },
      {
        subject: VLLM_HASHES,
        value: hashesOnly!.rate,
        unit: 'events/s',
        reference: TIERKV_INGEST,
        note: `one 16-token block per event, ${ROUND_BATCHES} batches of ${EVENTS_PER_BATCH} (empty token_ids) then one AllBlocksCleared per round; frames encoded beforehand`,
      },
      { subject: VLLM_TOKENS, value: withTokens!.rate, unit: 'events/s', reference: VLLM_HASHES, note: '16 token ids per event, as vLLM publishes them (decoded, then ignored)' },
      {
        subject: VLLM_HASHING,
        value: hashing!.rate,
        unit: 'events/s',
        reference: VLLM_HASHES,
        note: `VllmBlockHasher on the clock, same thread; hashing alone ${Math.round(hashedBlocksPerS).toLocaleString('en')} blocks/s (${((100 * hashing!.partMs) / hashing!.ms).toFixed(0)}% of the time)`,
      },
    ];
  },
  async teardown(): Promise<void> {
    await closeIngest(ingest);
    ingest = undefined;
  },
};

// ---------------------------------------------------------------- vllm.score

const SCORE_WORKERS = 64;
const PROMPT_BLOCKS = 512;
const FILL_STEP = 16_384;
/** Every 4th filler block is on CPU, the rest on GPU: two media per worker, as with vLLM's CPU offload. */
const CPU_EVERY = 4;

interface ScoreFixture {
  readonly controller: CacheController;
  readonly pub: zmq.Publisher;
  readonly client: ControllerClient;
  readonly http: string;
  readonly tokens: readonly number[];
  /** The prompt's block hashes as a client sends them (decimal strings: uint64 beyond 2^53). */
  readonly hashes: readonly string[];
  readonly body: string;
  readonly blocks: number;
}

let scoreFixture: ScoreFixture | undefined;

/** Stores `count` distinct filler blocks for worker `w` straight into its view (no sockets). */
function fillWorker(c: CacheController, w: number, count: number): void {
  for (let done = 0; done < count; done += FILL_STEP) {
    const n = Math.min(FILL_STEP, count - done);
    const gpu: bigint[] = [];
    const cpu: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const k = done + i;
      const id = (w << 24) | k; // unique per (worker, block) while k < 2^24
      const h = (BigInt(fmix32(id)) << 32n) | BigInt(fmix32(id ^ 0x5bd1e995));
      (k % CPU_EVERY === CPU_EVERY - 1 ? cpu : gpu).push(h);
    }
    const events: VllmDecodedEvent[] = [
      { type: 'BlockStored', hashes: gpu, parent: undefined, medium: 'gpu', blockSize: BLOCK_TOKENS, loraName: undefined },
      { type: 'BlockStored', hashes: cpu, parent: undefined, medium: 'cpu', blockSize: BLOCK_TOKENS, loraName: undefined },
    ];
    if (!c.vllm.applyEvents(`w${w}`, events)) throw new Error(`no vLLM publisher w${w}`);
  }
}

/**
 * The prompt's holders: w0, w1 all 512 blocks on GPU; w2, w3 all 512 on CPU; w4..w7 the first 256 on
 * GPU; the other 56 workers none of it (their first lookup misses).
 */
function placePrompt(c: CacheController, hashes: readonly bigint[]): number {
  const put = (w: number, medium: string, upTo: number) => c.vllm.applyEvents(`w${w}`, [{ type: 'BlockStored', hashes: hashes.slice(0, upTo), parent: undefined, medium, blockSize: BLOCK_TOKENS, loraName: undefined }]);
  put(0, 'gpu', PROMPT_BLOCKS);
  put(1, 'gpu', PROMPT_BLOCKS);
  put(2, 'cpu', PROMPT_BLOCKS);
  put(3, 'cpu', PROMPT_BLOCKS);
  for (let w = 4; w < 8; w++) put(w, 'gpu', PROMPT_BLOCKS / 2);
  return 4 * PROMPT_BLOCKS + 4 * (PROMPT_BLOCKS / 2);
}

const EXPECTED_TOP = [
  ['w0', 512, 512],
  ['w1', 512, 512],
  ['w2', 512, 409.6],
  ['w3', 512, 409.6],
  ['w4', 256, 256],
  ['w5', 256, 256],
  ['w6', 256, 256],
  ['w7', 256, 256],
] as const;

function checkScores(how: string, ws: VllmScoreResult['workers']): void {
  const top = ws.slice(0, EXPECTED_TOP.length).map((w) => [w.worker, w.blocks, w.score]);
  const rest = ws.slice(EXPECTED_TOP.length);
  if (JSON.stringify(top) !== JSON.stringify(EXPECTED_TOP) || ws.length !== SCORE_WORKERS || rest.some((w) => w.blocks !== 0)) {
    throw new Error(`score ${how} returned ${JSON.stringify(top)} and ${rest.filter((w) => w.blocks !== 0).length} more holders of ${ws.length}`);
  }
}

async function openScore(target: number, log: (m: string) => void): Promise<ScoreFixture> {
  const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: 0, workerTimeoutMs: 3_600_000 });
  let pub: zmq.Publisher | undefined;
  try {
    const addr = await controller.start();
    // One silent PUB for all 64 subscribers: the pool is filled directly, not over sockets.
    pub = new zmq.Publisher({ linger: 0 });
    await pub.bind('tcp://127.0.0.1:*');
    for (let w = 0; w < SCORE_WORKERS; w++) controller.vllm.add({ name: `w${w}`, endpoint: pub.lastEndpoint!, topic: TOPIC, model: MODEL, blockSize: BLOCK_TOKENS });
    const tokens = tokenIds(PROMPT_BLOCKS * BLOCK_TOKENS, 0);
    const promptHashes = new VllmBlockHasher({ algo: 'sha256_cbor', seed: '', blockSize: BLOCK_TOKENS }).blockHashes(tokens);
    const started = performance.now();
    const held = placePrompt(controller, promptHashes);
    const perWorker = Math.floor((target - held) / SCORE_WORKERS);
    for (let w = 0; w < SCORE_WORKERS; w++) fillWorker(controller, w, perWorker);
    const blocks = controller.poolUsage().keys;
    log(`${blocks.toLocaleString('en')} blocks in the pool, filled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const hashes = promptHashes.map((h) => h.toString());
    return { controller, pub, client: new ControllerClient({ router: addr.router }), http: `${addr.http!}/score`, tokens, hashes, body: JSON.stringify({ model: MODEL, block_hashes: hashes }), blocks };
  } catch (err) {
    pub?.close();
    await controller.close();
    throw err;
  }
}

async function closeScore(x: ScoreFixture | undefined): Promise<void> {
  if (!x) return;
  x.client.close();
  x.pub.close();
  await x.controller.close();
}

async function postScore(x: ScoreFixture): Promise<VllmScoreResult> {
  const res = await fetch(x.http, { method: 'POST', headers: { 'content-type': 'application/json' }, body: x.body });
  const body = (await res.json()) as VllmScoreResult;
  if (res.status !== 200) throw new Error(`POST /score answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * Per-call latencies (seconds) of several subjects, sampled in alternating slices (A B, B A, …) of
 * `budgetMs / slices` each, at least one call per slice. Synchronous calls stay synchronous.
 */
async function sampleLatencies(budgetMs: number, calls: readonly (() => unknown)[], slices = DEFAULT_SLICES): Promise<number[][]> {
  const samples = calls.map(() => [] as number[]);
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < calls.length; k++) {
      const i = s % 2 === 0 ? k : calls.length - 1 - k;
      const call = calls[i]!;
      const out = samples[i]!;
      const sliceStart = performance.now();
      let now = sliceStart;
      do {
        const t0 = now;
        const r = call();
        if (r instanceof Promise) await r;
        now = performance.now();
        out.push((now - t0) / 1000);
      } while (now - sliceStart < budgetMs / slices);
    }
  }
  return samples.map((a) => a.sort((p, q) => p - q));
}

const SCORE_HASHES = `vLLM score, ${PROMPT_BLOCKS} block hashes (in process)`;
const SCORE_TOKENS = `vLLM score, ${PROMPT_BLOCKS * BLOCK_TOKENS} tokens hashed per request (in process)`;
const SCORE_HTTP = `vLLM score, ${PROMPT_BLOCKS} block hashes (HTTP POST /score)`;
const SCORE_ZMQ = `vLLM score, ${PROMPT_BLOCKS} block hashes (ZeroMQ round trip)`;

/** Score latency percentiles for an 8k-token prompt over 64 vLLM workers holding 10 M blocks (1 M quick). */
export const vllmScoreScenario: BenchScenario = {
  name: 'vllm.score',
  description: `Score latency (p50, p99) of a ${PROMPT_BLOCKS * BLOCK_TOKENS}-token prompt (${PROMPT_BLOCKS} blocks) over ${SCORE_WORKERS} vLLM workers holding 10 M blocks (1 M quick): in process, HTTP POST /score, ZeroMQ score`,
  async setup(ctx: BenchContext): Promise<void> {
    scoreFixture = await openScore(ctx.quick ? 1_000_000 : 10_000_000, ctx.log);
  },
  async run(ctx): Promise<BenchMeasurement[]> {
    const x = scoreFixture!;
    const byHashes = { model: MODEL, blockHashes: x.hashes };
    const byTokens = { model: MODEL, tokens: x.tokens };
    checkScores('by block hashes', x.controller.vllm.score(byHashes).workers);
    checkScores('by tokens', x.controller.vllm.score(byTokens).workers);
    checkScores('over HTTP', (await postScore(x)).workers);
    checkScores('over ZeroMQ', await x.client.score(byHashes));

    const budget = ctx.budgetMs ?? QUICK_BUDGET_MS;
    const samples = await sampleLatencies(budget, [
      () => x.controller.vllm.score(byHashes),
      () => x.controller.vllm.score(byTokens),
      () => postScore(x),
      () => x.client.score(byHashes),
    ]);
    const note = (i: number) => `${x.blocks.toLocaleString('en')} blocks, ${SCORE_WORKERS} workers, 8 holding the prompt (GPU and CPU); ${samples[i]!.length} calls`;
    const out: BenchMeasurement[] = [];
    [SCORE_HASHES, SCORE_TOKENS, SCORE_HTTP, SCORE_ZMQ].forEach((subject, i) => {
      out.push({ subject: `${subject} p50`, value: quantile(samples[i]!, 0.5), unit: 's', note: note(i) });
      out.push({ subject: `${subject} p99`, value: quantile(samples[i]!, 0.99), unit: 's', ...(subject === SCORE_HASHES ? { goal: 0.001 } : {}) });
    });
    return out;
  },
  async teardown(): Promise<void> {
    await closeScore(scoreFixture);
    scoreFixture = undefined;
  },
};
