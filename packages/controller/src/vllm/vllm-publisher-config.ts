import { ConfigError } from '@tierkv/core';

export type VllmHashAlgo = 'sha256_cbor' | 'xxhash_cbor';

/** One vLLM KV-event publisher (one engine, or one data-parallel rank of one) the controller follows. */
export interface VllmPublisherConfig {
  /** Unique, configured name; the publisher appears in the KV pool as instance `vllm:<name>`. */
  readonly name: string;
  /** The publisher's PUB endpoint (vLLM `kv-events-config.endpoint`, e.g. `tcp://host:5557`). */
  readonly endpoint: string;
  /** Its replay ROUTER (vLLM `replay_endpoint`); without it a missed batch clears the view. */
  readonly replayEndpoint?: string;
  /** Topic prefix to subscribe to. @default '' (everything) */
  readonly topic?: string;
  /** Model served; the KV pool scope's modelName. */
  readonly model: string;
  /** Data-parallel rank (the pool's worker id); batches stamped with another rank are dropped. @default 0 */
  readonly dataParallelRank?: number;
  /** vLLM `--prefix-caching-hash-algo`, for scoring by token ids. @default 'sha256_cbor' */
  readonly hashAlgo?: VllmHashAlgo;
  /** vLLM's PYTHONHASHSEED (its NONE_HASH seed), for scoring by token ids. @default '' */
  readonly hashSeed?: string;
  /** vLLM block size in tokens. @default 16 */
  readonly blockSize?: number;
}

export type ResolvedVllmPublisher = Required<Omit<VllmPublisherConfig, 'replayEndpoint'>> & { readonly replayEndpoint: string | undefined };

/** Publishers a controller follows at most: the publisher name is a metric attribute, so it stays bounded. */
export const MAX_VLLM_PUBLISHERS = 256;
export const DEFAULT_VLLM_BLOCK_SIZE = 16;
const NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const ENDPOINT = /^(tcp|ipc|inproc):\/\/\S{1,1000}$/;
const KEYS = ['name', 'endpoint', 'replayEndpoint', 'topic', 'model', 'dataParallelRank', 'hashAlgo', 'hashSeed', 'blockSize'];

/** Checks one publisher config (from options, the CLI or the HTTP API) and fills in defaults. */
export function resolveVllmPublisher(c: unknown, field = 'vllmPublishers'): ResolvedVllmPublisher {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ConfigError(field, 'expected an object {name, endpoint, model, ...}');
  const o = c as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw new ConfigError(field, `unknown field(s) ${unknown.join(', ')}; known: ${KEYS.join(', ')}`);
  const str = (k: string, re?: RegExp): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || (re && !re.test(v))) throw new ConfigError(`${field}.${k}`, `expected ${re === NAME ? '1-64 characters of A-Z a-z 0-9 . _ : -' : re === ENDPOINT ? 'a ZeroMQ endpoint such as tcp://host:5557' : 'a non-empty string'}, got ${JSON.stringify(v)}`);
    return v;
  };
  const rank = o.dataParallelRank ?? 0;
  if (!Number.isSafeInteger(rank) || (rank as number) < 0 || (rank as number) > 0xffff) throw new ConfigError(`${field}.dataParallelRank`, `expected an integer in [0, 65535], got ${String(rank)}`);
  const algo = o.hashAlgo ?? 'sha256_cbor';
  if (algo !== 'sha256_cbor' && algo !== 'xxhash_cbor') throw new ConfigError(`${field}.hashAlgo`, `expected sha256_cbor or xxhash_cbor, got ${String(algo)}`);
  const blockSize = o.blockSize ?? DEFAULT_VLLM_BLOCK_SIZE;
  if (!Number.isSafeInteger(blockSize) || (blockSize as number) < 1 || (blockSize as number) > 1 << 16) throw new ConfigError(`${field}.blockSize`, `expected an integer in [1, 65536], got ${String(blockSize)}`);
  if (o.hashSeed !== undefined && typeof o.hashSeed !== 'string') throw new ConfigError(`${field}.hashSeed`, 'expected a string');
  if (o.topic !== undefined && typeof o.topic !== 'string') throw new ConfigError(`${field}.topic`, 'expected a string');
  return {
    name: str('name', NAME),
    endpoint: str('endpoint', ENDPOINT),
    replayEndpoint: o.replayEndpoint === undefined ? undefined : str('replayEndpoint', ENDPOINT),
    topic: (o.topic as string | undefined) ?? '',
    model: str('model'),
    dataParallelRank: rank as number,
    hashAlgo: algo,
    hashSeed: (o.hashSeed as string | undefined) ?? '',
    blockSize: blockSize as number,
  };
}

/**
 * Parses the CLI form `name=w1,endpoint=tcp://h:5557,replay=tcp://h:5558,model=Qwen/Qwen3-0.6B`
 * (also `topic=`, `rank=`, `hash-algo=`, `hash-seed=`, `block-size=`).
 */
export function parseVllmPublisherSpec(spec: string): VllmPublisherConfig {
  const alias: Record<string, string> = { replay: 'replayEndpoint', rank: 'dataParallelRank', 'hash-algo': 'hashAlgo', 'hash-seed': 'hashSeed', 'block-size': 'blockSize', worker: 'name' };
  const out: Record<string, unknown> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError('--vllm-publisher', `expected key=value pairs separated by commas, got ${JSON.stringify(part)}`);
    const k = part.slice(0, eq).trim();
    const key = alias[k] ?? k;
    const v = part.slice(eq + 1).trim();
    out[key] = key === 'dataParallelRank' || key === 'blockSize' ? Number(v) : v;
  }
  return resolveVllmPublisher(out, '--vllm-publisher');
}
