import { ATTR } from '../attribute-names.js';
import type { MetricDefinition } from '../metric-definition.js';

/** Chunk lifetimes: a second to a day. */
const LIFETIME_BOUNDARIES_S = [0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

const L1_OPERATION = {
  name: ATTR.L1_OPERATION,
  values: ['reserve_write', 'finish_write', 'abort_write', 'reserve_read', 'finish_read', 'finish_write_and_reserve_read', 'delete'],
  description: 'The L1Manager method.',
} as const;

/** `tierkv.l1.*` metrics: the L1 manager (arena, object state machine, locks) and its eviction. */
export const L1_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.l1.read',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks read from L1: read locks released by finishRead (counted when the read finishes, as LMCache does).',
    attributes: [],
    lmcache: ['lmcache_mp:l1_read_keys', 'lmcache_mp.l1_read'],
  },
  {
    name: 'tierkv.l1.write',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks written to L1: writes completed by finishWrite or finishWriteAndReserveRead.',
    attributes: [],
    lmcache: ['lmcache_mp:l1_write_keys', 'lmcache_mp.l1_write'],
  },
  {
    name: 'tierkv.l1.read.misses',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'reserveRead keys that were not readable: absent, or still being written.',
    attributes: [
      { name: ATTR.L1_MISS_REASON, values: ['not_found', 'write_locked'], description: 'Why the key could not be read.' },
    ],
    lmcache: ['lmcache_mp.l1_read_failure'],
  },
  {
    name: 'tierkv.l1.evicted',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks that left L1 without a caller deleting them, by reason.',
    attributes: [
      {
        name: ATTR.L1_EVICTION_REASON,
        values: ['watermark', 'on_demand', 'lock_expired', 'temporary_released'],
        description:
          'watermark: usage passed the trigger watermark; on_demand: an allocation would have failed; lock_expired: a write reservation timed out; temporary_released: a temporary object lost its last reader.',
      },
    ],
    lmcache: ['lmcache_mp:l1_evicted_keys', 'lmcache_mp.l1_evicted'],
  },
  {
    name: 'tierkv.l1.chunk.lifetime',
    kind: 'histogram',
    unit: 's',
    description: 'Time from a chunk being written to its eviction. Sampled: one evicted chunk in 16, at most one a millisecond.',
    attributes: [],
    lmcache: ['lmcache_mp.l1_chunk_lifetime_seconds'],
    boundaries: LIFETIME_BOUNDARIES_S,
  },
  {
    name: 'tierkv.l1.chunk.idle',
    kind: 'histogram',
    unit: 's',
    description: 'Time from a chunk last being used (written, released by its last reader, or touched) to its eviction. Sampled: one evicted chunk in 16, at most one a millisecond.',
    attributes: [],
    lmcache: ['lmcache_mp.l1_chunk_idle_before_evict_seconds'],
    boundaries: LIFETIME_BOUNDARIES_S,
  },
  {
    name: 'tierkv.l1.chunk.reuse_gap',
    kind: 'histogram',
    unit: 's',
    description: 'Time between two uses of the same chunk, measured when its last reader finishes. Sampled: one finished read in 16, at most one a millisecond.',
    attributes: [],
    lmcache: ['lmcache_mp.l1_chunk_reuse_gap_seconds'],
    boundaries: LIFETIME_BOUNDARIES_S,
  },
  {
    name: 'tierkv.l1.chunk.evict_reuse_gap',
    kind: 'histogram',
    unit: 's',
    description:
      'Time from a chunk being evicted to it being written again (a sign L1 is too small). Sampled evicted chunks only; a chunk not written again within 300 s is recorded at 300 s.',
    attributes: [],
    lmcache: ['lmcache_mp.l1_chunk_evict_reuse_gap_seconds'],
    boundaries: LIFETIME_BOUNDARIES_S,
  },
  {
    name: 'tierkv.l1.deleted',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks deleted by callers (delete, clear). LMCache counted these within l1_evicted_keys.',
    attributes: [],
  },
  {
    name: 'tierkv.l1.eviction.runs',
    kind: 'observable_counter',
    unit: '{run}',
    description: 'Times eviction ran: the watermark was passed after a write, or an allocation needed room.',
    attributes: [{ name: ATTR.L1_EVICTION_REASON, values: ['watermark', 'on_demand'], description: 'What started the eviction.' }],
    lmcache: ['lmcache_mp.l1_eviction_loop_triggered'],
  },
  {
    name: 'tierkv.l1.allocation.failures',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Chunks reserveWrite answered OUT_OF_MEMORY (no room even after on-demand eviction).',
    attributes: [],
    lmcache: ['lmcache_mp.l1_allocation_failure'],
  },
  {
    name: 'tierkv.l1.memory.used',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'Arena bytes held by objects (allocator blocks, alignment included). Divide by tierkv.l1.memory.limit for the usage ratio.',
    attributes: [],
    lmcache: ['lmcache_mp:l1_memory_usage_bytes', 'lmcache_mp.l1_memory_usage_bytes', 'lmcache_mp.l1_usage_ratio'],
  },
  {
    name: 'tierkv.l1.memory.limit',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'Arena capacity in bytes (l1.capacityBytes rounded down to the alignment).',
    attributes: [],
  },
  {
    name: 'tierkv.l1.memory.write_locked',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'Arena bytes held by write-locked objects: reserved by a writer or a prefetch load, not yet readable (part of tierkv.l1.memory.used).',
    attributes: [],
    lmcache: ['lmcache_mp.l1_staging_bytes'],
  },
  {
    name: 'tierkv.l1.keys.used',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'Bytes charged for the model names and salts of the keys L1 holds (JS heap, outside the arena; two bytes a character), against l1.maxKeyBytes; new keys past it evict cold objects or answer OUT_OF_MEMORY.',
    attributes: [],
  },
  {
    name: 'tierkv.l1.keys.limit',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'The key budget, l1.maxKeyBytes.',
    attributes: [],
  },
  {
    name: 'tierkv.l1.objects',
    kind: 'observable_updowncounter',
    unit: '{chunk}',
    description: 'Objects in L1 by state.',
    attributes: [
      {
        name: ATTR.L1_OBJECT_STATE,
        values: ['write_locked', 'ready', 'read_locked'],
        description: 'write_locked: reserved, being written; ready: readable and evictable; read_locked: held by at least one reader.',
      },
    ],
  },
  {
    name: 'tierkv.l1.lock.expired',
    kind: 'observable_counter',
    unit: '{lock}',
    description: 'Locks that outlived their TTL and were reclaimed (a writer or reader that never finished).',
    attributes: [{ name: ATTR.L1_LOCK_TYPE, values: ['write', 'read'], description: 'The kind of lock that expired.' }],
  },
  {
    name: 'tierkv.l1.listener.errors',
    kind: 'observable_counter',
    unit: '{error}',
    description: 'L1 listener callbacks that threw; the error was isolated and the L1 call went on.',
    attributes: [],
  },
  {
    name: 'tierkv.l1.batches',
    kind: 'observable_counter',
    unit: '{call}',
    description:
      'Batched L1 calls, by operation (every call, whatever its keys answered). Each reserve_write call is also a watermark check, what LMCache counts as eviction-loop ticks.',
    attributes: [L1_OPERATION],
    lmcache: ['lmcache_mp.l1_eviction_loop_ticks'],
  },
  {
    name: 'tierkv.l1.batch.duration',
    kind: 'histogram',
    unit: 's',
    description:
      'Time one batched L1 call took (per call, not per key). Sampled: at most one call per operation and millisecond is timed, since recording costs about as much as a small call; tierkv.l1.batches counts every call.',
    attributes: [L1_OPERATION],
  },
];
