import { ConfigError, refuseUnknownOptions, type TelemetryOptions } from '@tierkv/core';

/** Default medium of an L2 adapter, by adapter name; adapters not listed publish as `STORAGE`. */
export const DEFAULT_L2_MEDIA: Readonly<Record<string, string>> = Object.freeze({ fs: 'DISK', memory: 'CPU' });
/** The medium of an L2 adapter with no entry in `l2Media` nor in DEFAULT_L2_MEDIA (e.g. redis). */
export const OTHER_L2_MEDIUM = 'STORAGE';

export interface VllmEventPublisherOptions extends TelemetryOptions {
  /** Where the PUB socket binds, e.g. `tcp://*:5557` or `tcp://127.0.0.1:0` (any free port). Required. */
  endpoint: string;
  /** Where the replay ROUTER binds; unset: no replay. */
  replayEndpoint?: string;
  /** The topic frame of every message. @default '' */
  topic?: string;
  /** The worker's chunk size in tokens: each chunk is one vLLM block. Required. */
  blockSize: number;
  /** The `data_parallel_rank` of every batch. @default null */
  dataParallelRank?: number | null;
  /** Medium of the L1 (host memory) copies. @default 'CPU' */
  l1Medium?: string;
  /**
   * Medium per L2 adapter name, over DEFAULT_L2_MEDIA (`fs` → `DISK`, `memory` → `CPU`); other
   * adapters (redis, …) publish as `STORAGE`. `null` leaves an adapter's keys unpublished.
   */
  l2Media?: Readonly<Record<string, string | null>>;
  /** Publish L2 stores/deletes at all. @default true */
  publishL2?: boolean;
  /** Send pending events at least this often. @default 20 */
  flushIntervalMs?: number;
  /** Block hashes per batch at most (a batch is one ZeroMQ message). @default 4096 */
  maxBlocksPerBatch?: number;
  /** Block hashes buffered at most while a send is slow; beyond it they are dropped and counted. @default 1_000_000 */
  maxPendingBlocks?: number;
  /** Batches kept for replay at most. @default 1_000 */
  replayBufferBatches?: number;
  /** Bytes of batches kept for replay at most (the newest batch is always kept). @default 64 MiB */
  replayBufferBytes?: number;
  /** ZeroMQ send high-water mark of the PUB socket, in messages. @default 100_000 */
  sendHighWaterMark?: number;
}

export interface ResolvedVllmEventPublisherOptions {
  readonly endpoint: string;
  readonly replayEndpoint: string | undefined;
  readonly topic: string;
  readonly blockSize: number;
  readonly dataParallelRank: number | null;
  readonly l1Medium: string;
  readonly l2Media: Readonly<Record<string, string | null>>;
  readonly publishL2: boolean;
  readonly flushIntervalMs: number;
  readonly maxBlocksPerBatch: number;
  readonly maxPendingBlocks: number;
  readonly replayBufferBatches: number;
  readonly replayBufferBytes: number;
  readonly sendHighWaterMark: number;
}

export const DEFAULT_VLLM_EVENT_PUBLISHER_OPTIONS = Object.freeze({
  topic: '',
  dataParallelRank: null,
  l1Medium: 'CPU',
  publishL2: true,
  flushIntervalMs: 20,
  maxBlocksPerBatch: 4096,
  maxPendingBlocks: 1_000_000,
  replayBufferBatches: 1_000,
  replayBufferBytes: 64 * 1024 * 1024,
  sendHighWaterMark: 100_000,
});

const P = 'vllmEvents';

function endpointOf(field: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(v)) {
    throw new ConfigError(`${P}.${field}`, `expected a ZeroMQ endpoint to bind, e.g. tcp://*:5557, got ${String(v)}`);
  }
  return v;
}

function medium(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw new ConfigError(`${P}.${field}`, `expected a medium name such as CPU or DISK, got ${String(v)}`);
  return v;
}

export function resolveVllmEventPublisherOptions(o: VllmEventPublisherOptions): ResolvedVllmEventPublisherOptions {
  if (!o || typeof o !== 'object') throw new ConfigError(P, 'expected an options object with at least { endpoint, blockSize }');
  const d = DEFAULT_VLLM_EVENT_PUBLISHER_OPTIONS;
  const pos = (field: string, v: unknown, dflt: number, integer = true): number => {
    const n = v ?? dflt;
    if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new ConfigError(`${P}.${field}`, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(n)}`);
    }
    return n;
  };
  const topic = o.topic ?? d.topic;
  if (typeof topic !== 'string' || Buffer.byteLength(topic) > 1024) throw new ConfigError(`${P}.topic`, 'expected a string of at most 1024 bytes');
  const rank = o.dataParallelRank ?? d.dataParallelRank;
  if (rank !== null && (!Number.isInteger(rank) || rank < 0 || rank > 0xffff)) throw new ConfigError(`${P}.dataParallelRank`, `expected null or an integer in [0, 65535], got ${String(rank)}`);
  if (o.blockSize === undefined) throw new ConfigError(`${P}.blockSize`, 'required: the worker\'s chunk size in tokens');
  if (o.publishL2 !== undefined && typeof o.publishL2 !== 'boolean') throw new ConfigError(`${P}.publishL2`, 'expected a boolean');
  const l2Media: Record<string, string | null> = { ...DEFAULT_L2_MEDIA };
  if (o.l2Media !== undefined) {
    if (!o.l2Media || typeof o.l2Media !== 'object') throw new ConfigError(`${P}.l2Media`, 'expected { [adapterName]: medium | null }');
    for (const [name, m] of Object.entries(o.l2Media)) l2Media[name] = m === null ? null : medium(`l2Media.${name}`, m);
  }
  const r: ResolvedVllmEventPublisherOptions = {
    endpoint: endpointOf('endpoint', o.endpoint, true)!,
    replayEndpoint: endpointOf('replayEndpoint', o.replayEndpoint, false),
    topic,
    blockSize: pos('blockSize', o.blockSize, 0),
    dataParallelRank: rank,
    l1Medium: medium('l1Medium', o.l1Medium ?? d.l1Medium),
    l2Media: Object.freeze(l2Media),
    publishL2: o.publishL2 ?? d.publishL2,
    flushIntervalMs: pos('flushIntervalMs', o.flushIntervalMs, d.flushIntervalMs, false),
    maxBlocksPerBatch: pos('maxBlocksPerBatch', o.maxBlocksPerBatch, d.maxBlocksPerBatch),
    maxPendingBlocks: pos('maxPendingBlocks', o.maxPendingBlocks, d.maxPendingBlocks),
    replayBufferBatches: pos('replayBufferBatches', o.replayBufferBatches, d.replayBufferBatches),
    replayBufferBytes: pos('replayBufferBytes', o.replayBufferBytes, d.replayBufferBytes),
    sendHighWaterMark: pos('sendHighWaterMark', o.sendHighWaterMark, d.sendHighWaterMark),
  };
  refuseUnknownOptions(o, [...Object.keys(r), 'meterProvider'], P);
  return r;
}
