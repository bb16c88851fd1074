import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

/**
 * The opt-in per-model and per-tenant attributes (`perModelAttributes`, `--per-model-attributes`):
 * absent unless enabled, and then bounded by its limit (later pairs are `_OTHER`).
 */
export const MODEL_ATTRIBUTES: readonly AttributeDefinition[] = [
  {
    name: ATTR.GEN_AI_REQUEST_MODEL,
    values: ['<model name>', '_OTHER'],
    description: 'Opt-in (perModelAttributes): the model name of the chunks; `_OTHER` past the limit of distinct model/salt pairs.',
  },
  {
    name: ATTR.CACHE_SALT,
    values: ['<cache salt>', '_OTHER'],
    description: 'Opt-in (perModelAttributes): the cache salt (tenant) of the chunks, `` when none; `_OTHER` past the limit.',
  },
];

const TIER: AttributeDefinition = {
  name: ATTR.STORAGE_TIER,
  values: ['l1', 'l2'],
  description: 'the tier that held the chunk when the prefix lookup ran',
};

const LISTENER: AttributeDefinition = {
  name: ATTR.STORAGE_LISTENER,
  values: ['storage', 'l2'],
  description: 'which listener kind threw (L1 listener errors are counted by tierkv.l1.* metrics)',
};

const DROP_REASON: AttributeDefinition = {
  name: ATTR.STORAGE_REFUSAL_REASON,
  values: ['queue_full', 'queue_bytes', 'not_in_l1'],
  description: "queue_full: storeQueueLimit batches queued; queue_bytes: storeQueueLimitBytes of L1 already read-locked by write-throughs (both only with storeBacklogPolicy 'skip_l2'); not_in_l1: the object left L1 before it could be locked",
};

const REJECT_REASON: AttributeDefinition = {
  name: ATTR.STORAGE_REFUSAL_REASON,
  values: ['queue_full', 'queue_bytes'],
  description: 'queue_full: storeQueueLimit write-through batches queued; queue_bytes: storeQueueLimitBytes of L1 read-locked by write-throughs',
};

/** `tierkv.storage.*` metrics: the StorageManager and its store and prefetch controllers. */
export const STORAGE_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.storage.read.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'readPrefetched calls.',
    attributes: [],
    lmcache: ['lmcache_mp:sm_read_requests'],
  },
  {
    name: 'tierkv.storage.read.succeeded_keys',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Keys readPrefetched found read-locked by a prefetch.',
    attributes: [],
    lmcache: ['lmcache_mp:sm_read_hit_keys', 'lmcache_mp:sm_read_succeed_keys'],
  },
  {
    name: 'tierkv.storage.read.failed_keys',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Keys readPrefetched did not find (the call then returns nothing).',
    attributes: [],
    lmcache: ['lmcache_mp:sm_read_miss_keys', 'lmcache_mp:sm_read_failed_keys'],
  },
  {
    name: 'tierkv.storage.write.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'reserveWrite calls.',
    attributes: [],
    lmcache: ['lmcache_mp:sm_write_requests'],
  },
  {
    name: 'tierkv.storage.write.succeeded_keys',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Keys reserveWrite reserved L1 memory for.',
    attributes: [],
    lmcache: ['lmcache_mp:sm_write_success_keys', 'lmcache_mp:sm_write_succeed_keys'],
  },
  {
    name: 'tierkv.storage.write.failed_keys',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Keys reserveWrite could not reserve (out of memory, wrong state, locked, or refused under store back-pressure).',
    attributes: [],
    lmcache: ['lmcache_mp:sm_write_failed_keys'],
  },
  {
    name: 'tierkv.storage.write.rejected_keys',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: "Keys reserveWrite refused because the L2 write-through backlog was over a bound (storeBacklogPolicy 'reject_writes'); also counted in write.failed_keys. Writers retry once it drains.",
    attributes: [REJECT_REASON],
  },
  {
    name: 'tierkv.storage.prefix_lookup.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Prefix lookups (submitPrefetch calls).',
    attributes: [],
    lmcache: ['lmcache_mp:lookup_requests'],
  },
  {
    name: 'tierkv.storage.prefix_lookup.requested_chunks',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks asked for by prefix lookups.',
    attributes: [],
  },
  {
    name: 'tierkv.storage.prefix_lookup.requested_tokens',
    kind: 'observable_counter',
    unit: '{token}',
    description: 'Tokens asked for by prefix lookups (chunks × chunkTokens).',
    attributes: [],
    lmcache: ['lmcache_mp:lookup_tokens'],
  },
  {
    name: 'tierkv.storage.prefix_lookup.hit_chunks',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks of the contiguous prefix a prefetch made ready, by the tier that held them.',
    attributes: [TIER],
  },
  {
    name: 'tierkv.storage.prefix_lookup.hit_tokens',
    kind: 'observable_counter',
    unit: '{token}',
    description: 'Tokens of the contiguous prefix a prefetch made ready (chunks × chunkTokens), by tier.',
    attributes: [TIER],
    lmcache: ['lmcache_mp:lookup_hit_tokens'],
  },
  {
    name: 'tierkv.storage.store_queue.depth',
    kind: 'observable_updowncounter',
    unit: '{batch}',
    description: 'Write-through batches waiting for or in an L2 store.',
    attributes: [],
  },
  {
    name: 'tierkv.storage.store.dropped',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: "Objects not written through to L2: the store queue was full in batches or in bytes (storeBacklogPolicy 'skip_l2'), or the object was gone from L1.",
    attributes: [DROP_REASON],
  },
  {
    name: 'tierkv.storage.prefetch.active',
    kind: 'observable_updowncounter',
    unit: '{prefetch}',
    description: 'Prefetches submitted and not yet settled.',
    attributes: [],
  },
  {
    name: 'tierkv.storage.prefetch.duration',
    kind: 'histogram',
    unit: 's',
    description:
      'Time from submitPrefetch to the prefetch settling (all L2 loads done). Sampled: at most one prefetch per millisecond is timed (per model and salt pair when the per-model attributes are on), since a record per prefetch cost each SDK reader several percent of small prefetches served from L1; tierkv.storage.prefix_lookup.requests counts every prefetch.',
    attributes: [...MODEL_ATTRIBUTES],
  },
  {
    name: 'tierkv.storage.listener_errors',
    kind: 'observable_counter',
    unit: '{error}',
    description: 'Listener callbacks that threw; the error is isolated and the storage path goes on.',
    attributes: [LISTENER],
  },
];
