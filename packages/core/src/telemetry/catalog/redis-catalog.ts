import type { MetricDefinition } from '../metric-definition.js';

/** The Redis commands `@tierkv/l2-redis` sends; a pipeline of two or more is `BATCH <command>` (OTel semconv). */
const REDIS_COMMANDS = ['GET', 'SET', 'TOUCH', 'EXPIRE', 'UNLINK', 'SCAN'] as const;

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;

/**
 * Metrics of the Redis L2 adapter. `db.client.operation.duration` follows OpenTelemetry's database
 * semantic conventions (`db.client.*`, so existing Redis dashboards work); the rest are the
 * adapter's own `tierkv.l2.redis.*` metrics. The generic L2 metrics (stores, loads, failures,
 * bytes) come from the StorageManager's instrumented wrapper, with `tierkv.l2.adapter=redis`.
 */
export const REDIS_METRICS: readonly MetricDefinition[] = [
  {
    name: 'db.client.operation.duration',
    kind: 'histogram',
    unit: 's',
    description:
      'Duration of Redis commands sent by the Redis L2 adapter, one record per pipeline (a batch of keys is one `BATCH <command>` operation).',
    attributes: [
      { name: 'db.system.name', values: ['redis'], description: 'Always `redis` (Valkey speaks the same protocol).' },
      {
        name: 'db.operation.name',
        values: [...REDIS_COMMANDS, ...REDIS_COMMANDS.filter((c) => c !== 'SCAN').map((c) => `BATCH ${c}`)],
        description: 'The Redis command; `BATCH <command>` for a pipeline of two or more of it.',
      },
      {
        name: 'error.type',
        values: ['timeout', 'connection', 'server'],
        description:
          'Set only when the operation failed: `timeout` (no reply before the deadline), `connection` (not connected, connection lost, cluster not ready) or `server` (Redis replied with an error, e.g. OOM).',
      },
    ],
  },
  {
    name: 'tierkv.l2.redis.breaker.state',
    kind: 'observable_gauge',
    unit: '{adapter}',
    description:
      'Redis L2 adapters whose circuit breaker is in each state (1 for the current state of one adapter, 0 for the others).',
    attributes: [{ name: 'state', values: [...BREAKER_STATES], description: 'The circuit breaker state.' }],
  },
  {
    name: 'tierkv.l2.redis.breaker.transitions',
    kind: 'observable_counter',
    unit: '{transition}',
    description: 'Circuit breaker state changes of the Redis L2 adapter, by the state entered.',
    attributes: [{ name: 'to', values: [...BREAKER_STATES], description: 'The state the breaker entered.' }],
  },
  {
    name: 'tierkv.l2.redis.stores.dropped',
    kind: 'observable_counter',
    unit: '{chunk}',
    description:
      'Objects the Redis L2 adapter did not store: skipped while the breaker was open, or lost to a failed command. Never queued for later.',
    attributes: [
      {
        name: 'reason',
        values: ['breaker_open', 'error'],
        description: '`breaker_open`: Redis was considered down, nothing was sent; `error`: the command failed or timed out.',
      },
    ],
  },
  {
    name: 'tierkv.l2.redis.short_circuited',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Adapter calls answered without contacting Redis because the circuit breaker was open (lookups and loads answer "miss").',
    attributes: [
      { name: 'tierkv.l2.operation', values: ['store', 'lookup', 'load', 'delete'], description: 'The L2 operation.' },
    ],
  },
  {
    name: 'tierkv.l2.redis.corrupt',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Values read from Redis that failed verification and were treated as a miss (never returned as data).',
    attributes: [
      {
        name: 'reason',
        values: ['truncated', 'bad_header', 'checksum', 'key_mismatch', 'size_mismatch', 'layout_mismatch'],
        description:
          '`truncated`: shorter than its header says; `bad_header`: not a tierkv value (magic, version or checksum algorithm); `checksum`: the payload does not match its checksum (XXH3-64, or CRC-32 in older values); `key_mismatch`: stored under another key; `size_mismatch`: intact, but not the size the caller expected; `layout_mismatch`: intact, but stored with another layout than the one asked for (a miss, kept).',
      },
    ],
  },
];
