import { ConfigError, DEFAULT_CHUNK_SIZE, ModelAttributes, refuseUnknownOptions, type PerModelAttributesOption, type TelemetryOptions } from '@tierkv/core';
import type { L1Options } from '../l1/l1-manager.js';
import type { L2Adapter } from '../l2/l2-adapter.js';

/** Which tiers a finished write goes to: every L2 adapter, and with `skip_l1` it then leaves L1. */
export type StorePolicy = 'all' | 'skip_l1';

/**
 * What happens while the write-through backlog is over `storeQueueLimit` or `storeQueueLimitBytes`:
 * `reject_writes` (back-pressure): reserveWrite refuses new keys until the backlog drains, so every
 * finished write reaches L2; `skip_l2`: writes go on and the L2 copy of new objects is dropped and
 * counted (for a pure cache that would rather keep writing than wait for a slow L2).
 */
export type StoreBacklogPolicy = 'reject_writes' | 'skip_l2';

/** Why reserveWrite refuses new keys (the `reason` of tierkv.storage.write.rejected_keys). */
export type WriteRejectReason = 'queue_full' | 'queue_bytes';

export interface StorageManagerOptions extends TelemetryOptions {
  l1: L1Options;
  /** L2 tiers in lookup order (fastest first). @default [] */
  l2?: readonly L2Adapter[];
  /** `all`: write every object through to every adapter; `skip_l1`: also drop it from L1 once every adapter stored it. @default 'all' */
  storePolicy?: StorePolicy;
  /** Max queued L2 store batches; past it `storeBacklogPolicy` applies. @default 1024 */
  storeQueueLimit?: number;
  /**
   * Bytes of L1 objects the write-through may hold read-locked (queued or being copied). Past it
   * `storeBacklogPolicy` applies, so a slow L2 cannot fill L1 with locked objects.
   * @default 25% of l1.capacityBytes
   */
  storeQueueLimitBytes?: number;
  /**
   * Past either store-queue bound: `reject_writes` makes reserveWrite refuse new keys until the
   * backlog drains (no finished write is ever kept from L2); `skip_l2` keeps accepting writes and
   * drops their write-through (counted by tierkv.storage.store.dropped). @default 'reject_writes'
   */
  storeBacklogPolicy?: StoreBacklogPolicy;
  /** Max keys one L2 store call carries (queued batches are merged up to it). @default 64 */
  storeBatchSize?: number;
  /** Max L2 store calls in flight at once. @default 2 */
  storeConcurrency?: number;
  /** Max keys being loaded from L2 at once, across all prefetches. @default 8 */
  maxInFlight?: number;
  /** Max keys one L2 load call carries (at most maxInFlight). @default 4 */
  loadBatchSize?: number;
  /** Tokens per chunk, to report prefix lookups in tokens. @default 256 */
  chunkTokens?: number;
  /** Settled prefetch results kept for queryPrefetchStatus before the oldest are forgotten. @default 65536 */
  prefetchResultsLimit?: number;
  /**
   * Opt-in: `tierkv.storage.prefetch.duration` also carries the model name (`gen_ai.request.model`)
   * and cache salt (`tierkv.cache.salt`, the tenant) of each prefetch's chunks, for at most `limit`
   * distinct pairs (default 50; later pairs are reported as `_OTHER`). Off by default: every model
   * and tenant multiplies the series. @default false
   */
  perModelAttributes?: PerModelAttributesOption;
}

export interface ResolvedStorageManagerOptions {
  readonly l1: L1Options;
  readonly l2: readonly L2Adapter[];
  readonly storePolicy: StorePolicy;
  readonly storeQueueLimit: number;
  readonly storeQueueLimitBytes: number;
  readonly storeBacklogPolicy: StoreBacklogPolicy;
  readonly storeBatchSize: number;
  readonly storeConcurrency: number;
  readonly maxInFlight: number;
  readonly loadBatchSize: number;
  readonly chunkTokens: number;
  readonly prefetchResultsLimit: number;
  /** The opt-in per-model attributes; undefined when off. */
  readonly modelAttributes: ModelAttributes | undefined;
  readonly telemetry: TelemetryOptions;
}

const STORAGE_OPTION_NAMES = ['l1', 'l2', 'storePolicy', 'storeQueueLimit', 'storeQueueLimitBytes', 'storeBacklogPolicy', 'storeBatchSize', 'storeConcurrency', 'maxInFlight', 'loadBatchSize', 'chunkTokens', 'prefetchResultsLimit', 'perModelAttributes', 'meterProvider', 'tracerProvider'];

export const DEFAULT_STORAGE_MANAGER_OPTIONS = Object.freeze({
  l2: Object.freeze([]) as readonly L2Adapter[],
  storePolicy: 'all' as StorePolicy,
  storeQueueLimit: 1024,
  /** Default storeQueueLimitBytes as a fraction of l1.capacityBytes. */
  storeQueueLimitFraction: 0.25,
  storeBacklogPolicy: 'reject_writes' as StoreBacklogPolicy,
  storeBatchSize: 64,
  storeConcurrency: 2,
  maxInFlight: 8,
  loadBatchSize: 4,
  chunkTokens: DEFAULT_CHUNK_SIZE,
  prefetchResultsLimit: 65_536,
});

function positiveInt(field: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    throw new ConfigError(`storage.${field}`, `expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return v;
}

function defaultStoreQueueBytes(l1: L1Options): number {
  const cap = l1.capacityBytes;
  // An invalid capacity is L1's to reject (with its own message); any positive fallback does here.
  if (typeof cap !== 'number' || !Number.isSafeInteger(cap) || cap < 1) return 1;
  return Math.max(1, Math.floor(cap * DEFAULT_STORAGE_MANAGER_OPTIONS.storeQueueLimitFraction));
}

/** Validates and fills in defaults; errors name the option (`storage.maxInFlight`). */
export function resolveStorageManagerOptions(options: StorageManagerOptions): ResolvedStorageManagerOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('storage', 'expected an options object with at least { l1: { capacityBytes } }');
  if (options.l1 === null || typeof options.l1 !== 'object') throw new ConfigError('storage.l1', 'expected L1 options, e.g. { capacityBytes: 256 * 2 ** 20 }');
  refuseUnknownOptions(options, STORAGE_OPTION_NAMES, 'storage');
  const l2 = options.l2 ?? DEFAULT_STORAGE_MANAGER_OPTIONS.l2;
  if (!Array.isArray(l2)) throw new ConfigError('storage.l2', 'expected an array of L2 adapters (fastest first)');
  const names = new Set<string>();
  l2.forEach((a: L2Adapter, i: number) => {
    for (const m of ['store', 'lookupAndLock', 'load', 'unlock', 'delete', 'usage', 'close'] as const) {
      if (typeof (a as unknown as Record<string, unknown>)?.[m] !== 'function') {
        throw new ConfigError(`storage.l2[${i}]`, `not an L2Adapter: missing ${m}(); implement the L2Adapter contract`);
      }
    }
    if (typeof a.name !== 'string' || a.name.length === 0) throw new ConfigError(`storage.l2[${i}].name`, 'expected a short, fixed adapter name (the tierkv.l2.adapter metric attribute)');
    if (names.has(a.name)) throw new ConfigError(`storage.l2[${i}].name`, `two adapters are named ${JSON.stringify(a.name)}; give each a distinct name so their metrics stay apart`);
    names.add(a.name);
  });
  const storePolicy = options.storePolicy ?? DEFAULT_STORAGE_MANAGER_OPTIONS.storePolicy;
  if (storePolicy !== 'all' && storePolicy !== 'skip_l1') throw new ConfigError('storage.storePolicy', `expected 'all' or 'skip_l1', got ${JSON.stringify(storePolicy)}`);
  const storeBacklogPolicy = options.storeBacklogPolicy ?? DEFAULT_STORAGE_MANAGER_OPTIONS.storeBacklogPolicy;
  if (storeBacklogPolicy !== 'reject_writes' && storeBacklogPolicy !== 'skip_l2') {
    throw new ConfigError('storage.storeBacklogPolicy', `expected 'reject_writes' (refuse new writes while the L2 write-through backlog is over its bound) or 'skip_l2' (keep writing, drop their L2 copy), got ${JSON.stringify(storeBacklogPolicy)}`);
  }
  const maxInFlight = positiveInt('maxInFlight', options.maxInFlight, DEFAULT_STORAGE_MANAGER_OPTIONS.maxInFlight);
  const loadBatchSize = Math.min(maxInFlight, positiveInt('loadBatchSize', options.loadBatchSize, DEFAULT_STORAGE_MANAGER_OPTIONS.loadBatchSize));
  return Object.freeze({
    l1: options.l1,
    l2: Object.freeze([...l2]),
    storePolicy,
    storeQueueLimit: positiveInt('storeQueueLimit', options.storeQueueLimit, DEFAULT_STORAGE_MANAGER_OPTIONS.storeQueueLimit),
    storeQueueLimitBytes: positiveInt('storeQueueLimitBytes', options.storeQueueLimitBytes, defaultStoreQueueBytes(options.l1)),
    storeBacklogPolicy,
    storeBatchSize: positiveInt('storeBatchSize', options.storeBatchSize, DEFAULT_STORAGE_MANAGER_OPTIONS.storeBatchSize),
    storeConcurrency: positiveInt('storeConcurrency', options.storeConcurrency, DEFAULT_STORAGE_MANAGER_OPTIONS.storeConcurrency),
    maxInFlight,
    loadBatchSize,
    chunkTokens: positiveInt('chunkTokens', options.chunkTokens, DEFAULT_STORAGE_MANAGER_OPTIONS.chunkTokens),
    prefetchResultsLimit: positiveInt('prefetchResultsLimit', options.prefetchResultsLimit, DEFAULT_STORAGE_MANAGER_OPTIONS.prefetchResultsLimit),
    modelAttributes: ModelAttributes.fromOption(options.perModelAttributes, 'storage.perModelAttributes'),
    telemetry: {
      ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
      ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
    },
  });
}
