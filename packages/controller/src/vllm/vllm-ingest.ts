import { ConfigError, InvalidArgumentError } from '@tierkv/core';
import type { KvPool } from '../pool/kv-pool.js';
import type { ReplyMsg, ScoreMsg } from '../protocol/messages.js';
import { VllmBlockHasher } from './vllm-block-hasher.js';
import type { VllmEvent } from './vllm-events.js';
import { hashHalvesOf, parseHashHalves } from './vllm-hash.js';
import { MAX_VLLM_PUBLISHERS, resolveVllmPublisher, type ResolvedVllmPublisher, type VllmPublisherConfig } from './vllm-publisher-config.js';
import { DEFAULT_MEDIUM_WEIGHTS, scoreWorker, type VllmWorkerScore } from './vllm-scorer.js';
import { VllmSubscriber } from './vllm-subscriber.js';
import { VllmView } from './vllm-view.js';

export interface VllmScoreRequest {
  readonly model: string;
  readonly tokens?: readonly number[];
  readonly blockHashes?: readonly (string | number)[];
  /** Publisher names (or `vllm:<name>`) to score; default every publisher of the model. */
  readonly workers?: readonly string[];
  readonly mediumWeights?: Readonly<Record<string, number>>;
  readonly loraName?: string;
  readonly cacheSalt?: string;
}

export interface VllmScoreResult {
  readonly model: string;
  /** Best first; ties by worker name. */
  readonly workers: readonly VllmWorkerScore[];
}

export interface VllmPublisherInfo extends ResolvedVllmPublisher {
  readonly instanceId: string;
  readonly workerId: number;
  readonly expectedSeq: number | null;
  readonly blocks: Readonly<Record<string, number>>;
  readonly stats: VllmSubscriber['stats'];
}

export interface VllmIngestOptions {
  readonly replayTimeoutMs: number;
  /** Called with each score's duration in seconds (the metric). */
  readonly onScore?: (seconds: number) => void;
}

interface Entry {
  readonly sub: VllmSubscriber;
  readonly view: VllmView;
}

/**
 * Every vLLM publisher the controller follows, and scoring against their blocks. Publishers come from
 * options at start and from the HTTP API at runtime; each is a VllmSubscriber feeding a VllmView.
 */
export class VllmIngest {
  readonly #pool: KvPool;
  readonly #o: VllmIngestOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #hashers = new Map<string, VllmBlockHasher>();
  scoreRequests = 0;

  constructor(pool: KvPool, options: VllmIngestOptions) {
    this.#pool = pool;
    this.#o = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(config: VllmPublisherConfig | ResolvedVllmPublisher): VllmPublisherInfo {
    const c = resolveVllmPublisher(config);
    if (this.#entries.has(c.name)) throw new ConfigError(`vllmPublishers.${c.name}`, 'a publisher with this name is already followed; remove it first');
    if (this.#entries.size >= MAX_VLLM_PUBLISHERS) throw new ConfigError('vllmPublishers', `at most ${MAX_VLLM_PUBLISHERS} publishers (the name is a metric attribute)`);
    const view = new VllmView(this.#pool, c.name, c.model, c.dataParallelRank);
    const sub = new VllmSubscriber(c, view, { replayTimeoutMs: this.#o.replayTimeoutMs });
    sub.start();
    this.#entries.set(c.name, { sub, view });
    return this.#info(c.name)!;
  }

  async remove(name: string): Promise<boolean> {
    const e = this.#entries.get(name);
    if (!e) return false;
    this.#entries.delete(name);
    await e.sub.close();
    e.view.remove();
    return true;
  }

  list(): VllmPublisherInfo[] {
    return [...this.#entries.keys()].sort().map((n) => this.#info(n)!);
  }

  subscribers(): IterableIterator<VllmSubscriber> {
    return [...this.#entries.values()].map((e) => e.sub)[Symbol.iterator]();
  }

  #info(name: string): VllmPublisherInfo | undefined {
    const e = this.#entries.get(name);
    if (!e) return undefined;
    return { ...e.sub.config, instanceId: e.view.instanceId, workerId: e.view.workerId, expectedSeq: e.sub.expectedSeq ?? null, blocks: e.view.keys.sizeByLocation(), stats: e.sub.stats };
  }

  /**
   * Applies decoded events to a publisher's view as if its subscriber had received them (no seq
   * check, no counters): fills the KV pool without sockets, for benchmarks and tests. False when no
   * publisher has this name.
   */
  applyEvents(name: string, events: readonly VllmEvent[]): boolean {
    const e = this.#entries.get(name);
    if (!e) return false;
    for (const ev of events) e.view.apply(ev);
    return true;
  }

  /** Scores the publishers serving `req.model` by the longest prefix of the request they hold. */
  score(req: VllmScoreRequest): VllmScoreResult {
    const start = performance.now();
    this.scoreRequests++;
    try {
      const weights = { ...DEFAULT_MEDIUM_WEIGHTS, ...lowerKeys(req.mediumWeights ?? {}) };
      const wanted = req.workers?.map((w) => (w.startsWith('vllm:') ? w.slice(5) : w));
      const given = req.blockHashes && parseBlockHashes(req.blockHashes);
      // Hashes become (hi, lo) halves once per request; tokens hash once per distinct hasher.
      const hashed = new Map<VllmBlockHasher, Uint32Array>();
      const out: VllmWorkerScore[] = [];
      for (const [name, e] of this.#entries) {
        const c = e.sub.config;
        if (c.model !== req.model || (wanted && !wanted.includes(name))) continue;
        let halves = given;
        if (!halves) {
          const hasher = this.#hasher(c);
          halves = hashed.get(hasher);
          if (!halves) hashed.set(hasher, (halves = hashHalvesOf(hasher.blockHashes(req.tokens ?? [], { ...(req.loraName ? { loraName: req.loraName } : {}), ...(req.cacheSalt ? { cacheSalt: req.cacheSalt } : {}) }))));
        }
        out.push(scoreWorker(this.#pool, { name, instanceId: e.view.instanceId, workerId: e.view.workerId, scopeId: e.view.scopeId, blockSize: c.blockSize }, halves, weights));
      }
      out.sort((a, b) => b.score - a.score || (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0));
      return { model: req.model, workers: out };
    } finally {
      this.#o.onScore?.((performance.now() - start) / 1000);
    }
  }

  /** The ZeroMQ `score` request's reply; a bad hash is an ERR_INVALID reply, not a dropped message. */
  scoreReply(msg: ScoreMsg): ReplyMsg {
    try {
      return { t: 'score_ok', ...this.score(msg) };
    } catch (err) {
      if (err instanceof InvalidArgumentError) return { t: 'error', code: 'ERR_INVALID', message: err.message };
      throw err;
    }
  }

  /** One hasher per (algo, seed, block size): publishers of one model usually share it, so tokens hash once. */
  #hasher(c: ResolvedVllmPublisher): VllmBlockHasher {
    const key = `${c.hashAlgo}\u0000${c.blockSize}\u0000${c.hashSeed}`;
    let h = this.#hashers.get(key);
    if (!h) this.#hashers.set(key, (h = new VllmBlockHasher({ algo: c.hashAlgo, seed: c.hashSeed, blockSize: c.blockSize })));
    return h;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#entries.keys()].map((n) => this.remove(n)));
  }
}

/** The request's hashes as (hi, lo) halves, parsed once per request. */
function parseBlockHashes(hs: readonly (string | number)[]): Uint32Array {
  const out = new Uint32Array(hs.length * 2);
  for (let i = 0; i < hs.length; i++) {
    if (!parseHashHalves(hs[i], out, i)) throw new InvalidArgumentError('block_hashes', `entry ${i} is ${JSON.stringify(hs[i])}; expected a uint64 as a number (≤ 2^53), a decimal string or hex`);
  }
  return out;
}

function lowerKeys(w: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(w)) out[k.toLowerCase()] = v;
  return out;
}
