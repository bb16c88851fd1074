import { TokenHasher, type ObjectKey } from '@tierkv/core';
import { SeededRandom } from './random.js';

export interface WorkloadOptions {
  /** Reproducibility: the same seed gives the same token streams. @default 1 */
  seed?: number;
  /** Tokens per chunk (the TokenHasher's chunk size). @default 256 */
  chunkTokens?: number;
  /** Distinct system prompts shared by every session and client. @default 8 */
  systemPrompts?: number;
  /** Length of a system prompt, in chunks. @default [2, 6] */
  systemPromptChunks?: readonly [number, number];
  /** Conversations each client keeps going. @default 32 */
  sessionsPerClient?: number;
  /** New tokens a turn adds, in chunks (user message + model reply). @default [2, 5] */
  turnChunks?: readonly [number, number];
  /** Turns after which a conversation ends and the session starts a new one. @default 8 */
  maxTurns?: number;
  /** Zipf-like skew of session popularity; 0 = uniform. Hot sessions stay in L1, cold ones come back from L2. @default 0.9 */
  skew?: number;
  /** Model name in every key. @default 'tierkv-demo' */
  modelName?: string;
  /** Vocabulary size for synthetic token ids. @default 50_000 */
  vocabulary?: number;
}

export const DEFAULT_WORKLOAD_OPTIONS: Required<WorkloadOptions> = {
  seed: 1,
  chunkTokens: 256,
  systemPrompts: 8,
  systemPromptChunks: [2, 6],
  sessionsPerClient: 32,
  turnChunks: [2, 5],
  maxTurns: 8,
  skew: 0.9,
  modelName: 'tierkv-demo',
  vocabulary: 50_000,
};

/** One synthetic inference request: a prompt whose leading chunks may already be cached. */
export interface InferenceRequest {
  readonly session: number;
  readonly turn: number;
  /** The whole prompt: system prompt + conversation so far + the new turn. */
  readonly tokens: Uint32Array;
  /** One key per full chunk of `tokens`, chained (key i covers tokens [0, (i+1)·chunkTokens)). */
  readonly keys: readonly ObjectKey[];
  /** Chunks at the front that belong to the shared system prompt. */
  readonly systemChunks: number;
}

interface Session {
  systemPrompt: number;
  turn: number;
  history: Uint32Array;
}

/**
 * The synthetic inference workload of `tierkv demo`: sessions that share a handful of system
 * prompts and whose conversations grow turn by turn, so consecutive requests of a session share
 * ever longer prefixes. Sessions are picked with a Zipf-like skew: hot conversations stay in L1,
 * cold ones are evicted and come back from L2 when they are resumed. One instance per client; all
 * instances built from the same seed share the same system prompts.
 */
export class InferenceWorkload {
  readonly options: Required<WorkloadOptions>;
  readonly #hasher: TokenHasher;
  readonly #random: SeededRandom;
  readonly #systemPrompts: Uint32Array[];
  readonly #sessions: Session[];
  readonly #cumulativeWeights: Float64Array;

  constructor(client: number, options: WorkloadOptions = {}) {
    this.options = { ...DEFAULT_WORKLOAD_OPTIONS, ...options };
    const o = this.options;
    this.#hasher = new TokenHasher({ chunkSize: o.chunkTokens });
    const shared = new SeededRandom(o.seed);
    this.#systemPrompts = Array.from({ length: o.systemPrompts }, () =>
      this.#tokens(shared, shared.int(o.systemPromptChunks[0], o.systemPromptChunks[1]) * o.chunkTokens),
    );
    this.#random = new SeededRandom(o.seed).fork(client + 1);
    this.#sessions = Array.from({ length: o.sessionsPerClient }, () => this.#newSession());
    this.#cumulativeWeights = new Float64Array(o.sessionsPerClient);
    let total = 0;
    for (let i = 0; i < o.sessionsPerClient; i++) {
      total += 1 / Math.pow(i + 1, o.skew);
      this.#cumulativeWeights[i] = total;
    }
  }

  /** The next request: advances one session by a turn (or starts it over after `maxTurns`). */
  next(): InferenceRequest {
    const index = this.#pickSession();
    let session = this.#sessions[index]!;
    if (session.turn >= this.options.maxTurns) {
      session = this.#newSession();
      this.#sessions[index] = session;
    }
    const o = this.options;
    const turn = this.#tokens(this.#random, this.#random.int(o.turnChunks[0], o.turnChunks[1]) * o.chunkTokens);
    const system = this.#systemPrompts[session.systemPrompt]!;
    const tokens = new Uint32Array(system.length + session.history.length + turn.length);
    tokens.set(system, 0);
    tokens.set(session.history, system.length);
    tokens.set(turn, system.length + session.history.length);
    const grown = new Uint32Array(session.history.length + turn.length);
    grown.set(session.history, 0);
    grown.set(turn, session.history.length);
    session.history = grown;
    session.turn += 1;
    return {
      session: index,
      turn: session.turn,
      tokens,
      keys: this.#hasher.keysFor(tokens, { modelName: o.modelName }),
      systemChunks: system.length / o.chunkTokens,
    };
  }

  #newSession(): Session {
    return { systemPrompt: this.#random.int(0, this.options.systemPrompts - 1), turn: 0, history: new Uint32Array(0) };
  }

  #pickSession(): number {
    const weights = this.#cumulativeWeights;
    const target = this.#random.next() * weights[weights.length - 1]!;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (weights[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #tokens(random: SeededRandom, count: number): Uint32Array {
    const out = new Uint32Array(count);
    for (let i = 0; i < count; i++) out[i] = random.int(0, this.options.vocabulary - 1);
    return out;
  }
}
