import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

/**
 * The adapter's bounded name (`L2Adapter.name`). The built-in adapters are listed; a user adapter
 * reports its own short, fixed name (never a path, URL or key).
 */
const ADAPTER: AttributeDefinition = {
  name: ATTR.L2_ADAPTER,
  values: ['fs', 'memory', 'redis'],
  description: "the adapter's bounded name (L2Adapter.name); user adapters add their own fixed name",
};

const OPERATION: AttributeDefinition = {
  name: ATTR.L2_OPERATION,
  values: ['store', 'load', 'lookup', 'unlock', 'delete', 'clear'],
  description: 'the L2 adapter call',
};

/** Kept equal to L2_FAILURE_REASONS in @tierkv/storage (a storage test checks it). */
const REASON: AttributeDefinition = {
  name: ATTR.L2_FAILURE_REASON,
  values: ['no_space', 'permission', 'missing_dir', 'io', 'corrupt', 'miss', 'timeout', 'rejected', 'other'],
  description:
    'why the key failed: `no_space` device full/quota (ENOSPC, EDQUOT) or no room in the budget; `permission` EACCES/EPERM/EROFS; `missing_dir` a directory gone and not recreatable; `io` any other OS error; `corrupt` failed verification; `miss` a load found no usable object; `timeout`; `rejected` the whole batch was rejected for no more specific cause; `other` the adapter gave no reason',
};

const DIRECTION: AttributeDefinition = {
  name: ATTR.L2_DIRECTION,
  values: ['in', 'out'],
  description: '`in`: bytes written to the tier (store); `out`: bytes read from it (load)',
};

const RESULT: AttributeDefinition = {
  name: ATTR.L2_LOOKUP_RESULT,
  values: ['hit', 'miss'],
  description: 'whether lookupAndLock found the key',
};

/**
 * `tierkv.l2.*` metrics. The standard set is recorded for every adapter (the StorageManager wraps
 * each one); `corrupt` and `evicted` are reported by adapters that verify checksums or keep a budget.
 */
export const L2_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.l2.operations',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'L2 adapter calls (batches), by adapter and operation.',
    attributes: [ADAPTER, OPERATION],
  },
  {
    name: 'tierkv.l2.stored',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Objects an L2 adapter reported durably stored.',
    attributes: [ADAPTER],
    lmcache: ['lmcache:remote_write_requests'],
  },
  {
    name: 'tierkv.l2.loaded',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Objects loaded from an L2 adapter into L1 and verified.',
    attributes: [ADAPTER],
    lmcache: ['lmcache:remote_read_requests'],
  },
  {
    name: 'tierkv.l2.lookups',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Keys looked up (lookupAndLock) in an L2 adapter, by hit or miss.',
    attributes: [ADAPTER, RESULT],
  },
  {
    name: 'tierkv.l2.failures',
    kind: 'observable_counter',
    unit: '{chunk}',
    description:
      'Keys an L2 operation failed for: a store or load that answered false, or every key of a batch the adapter rejected (backend down), by reason (the adapter reports it per key, or it is read from the rejection; `other` is always reported, other reasons from their first failure on).',
    attributes: [ADAPTER, OPERATION, REASON],
  },
  {
    name: 'tierkv.l2.bytes',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Object bytes moved to (in) and from (out) an L2 adapter.',
    attributes: [ADAPTER, DIRECTION],
    lmcache: ['lmcache:remote_write_bytes', 'lmcache:remote_read_bytes'],
  },
  {
    name: 'tierkv.l2.inflight',
    kind: 'observable_updowncounter',
    unit: '{request}',
    description: 'L2 adapter calls started and not yet settled.',
    attributes: [ADAPTER, OPERATION],
  },
  {
    name: 'tierkv.l2.usage',
    kind: 'observable_gauge',
    unit: 'By',
    description: 'Bytes an L2 adapter holds, as its usage() reports.',
    attributes: [ADAPTER],
    lmcache: ['lmcache:local_storage_usage', 'lmcache:remote_cache_usage'],
  },
  {
    name: 'tierkv.l2.capacity',
    kind: 'observable_gauge',
    unit: 'By',
    description: "An L2 adapter's byte budget in effect (absent when it has none); the fs adapter lowers it to what its disk holds after ENOSPC and raises it back as space returns.",
    attributes: [ADAPTER],
  },
  {
    name: 'tierkv.l2.objects',
    kind: 'observable_gauge',
    unit: '{chunk}',
    description: 'Objects an L2 adapter holds.',
    attributes: [ADAPTER],
  },
  {
    name: 'tierkv.l2.operation.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of L2 adapter calls (one batch each), by adapter and operation; sampled: at most one call per adapter and operation is timed per millisecond (tierkv.l2.operations counts every call).',
    attributes: [ADAPTER, OPERATION],
    lmcache: ['lmcache:remote_time_to_get', 'lmcache:remote_time_to_put'],
  },
  {
    name: 'tierkv.l2.corrupt',
    kind: 'observable_counter',
    unit: '{chunk}',
    description:
      'Objects found corrupt or truncated (checksum, header or length mismatch); each is deleted and answered as a miss, never returned.',
    attributes: [ADAPTER],
  },
  {
    name: 'tierkv.l2.evicted',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: "Objects an L2 adapter evicted to stay within its byte budget (LRU by access).",
    attributes: [ADAPTER],
  },
];
