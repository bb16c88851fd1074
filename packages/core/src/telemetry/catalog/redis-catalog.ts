import { ATTR } from '../attribute-names.js';
import type { MetricDefinition } from '../metric-definition.js';

/** The Redis commands `@tierkv/l2-redis` sends; a pipeline of two or more is `BATCH <command>` (OTel semconv). */
const REDIS_COMMANDS = ['GET', 'SET', 'TOUCH', 'EXPIRE', 'UNLINK', 'SCAN'] as const;

/** The explicit bucket boundaries OpenTelemetry's database semantic conventions give `db.client.operation.duration`. */
const DB_CLIENT_DURATION_BOUNDARIES_S: readonly number[] = Object.freeze([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);

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
      'Duration of Redis commands sent by the Redis L2 adapter, one record per pipeline (a batch of keys is one `BATCH <command>` operation). Buckets: the semantic convention\'s [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] s.',
    boundaries: DB_CLIENT_DURATION_BOUNDARIES_S,
    attributes: [
      { name: ATTR.DB_SYSTEM_NAME, values: ['redis'], description: 'Always `redis` (Valkey speaks the same protocol).' },
      {
        name: ATTR.DB_OPERATION_NAME,
        values: [...REDIS_COMMANDS, ...REDIS_COMMANDS.filter((c) => c !== 'SCAN').map((c) => `BATCH ${c}`)],
        description: 'The Redis command; `BATCH <command>` for a pipeline of two or more of it.',
      },
      {
        name: ATTR.DB_NAMESPACE,
        values: ['<database index>'],
        description: 'The Redis database index as a string (`0` unless the adapter selects another; always `0` on a cluster). One per adapter.',
      },
      {
        name: ATTR.SERVER_ADDRESS,
        values: ['<configured host>'],
        description: "The Redis host of a single-node adapter, as configured (`url`, or the given client's options); one per adapter. Absent on a cluster (its commands go to many nodes).",
      },
      {
        name: ATTR.SERVER_PORT,
        values: ['<configured port>'],
        description: 'The Redis port beside `server.address`.',
      },
      {
        name: ATTR.DB_OPERATION_BATCH_SIZE,
        values: ['2', '4', '8', '16', '32', '64', '128', '256', '512', '1024', '2048', '4096', '8192', '16384', '32768', '65536'],
        description:
          'Set only for a pipeline of two or more commands: their number rounded up to a power of two (capped at 65536), so a histogram series stands for a range of batch sizes and the series stay few. Spans carry the exact number.',
      },
      {
        name: ATTR.ERROR_TYPE,
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
    attributes: [{ name: ATTR.BREAKER_STATE, values: [...BREAKER_STATES], description: 'The circuit breaker state.' }],
  },
  {
    name: 'tierkv.l2.redis.breaker.transitions',
    kind: 'observable_counter',
    unit: '{transition}',
    description: 'Circuit breaker state changes of the Redis L2 adapter, by the state entered.',
    attributes: [{ name: ATTR.BREAKER_STATE, values: [...BREAKER_STATES], description: 'The state the breaker entered.' }],
  },
  {
    name: 'tierkv.l2.redis.stores.dropped',
    kind: 'observable_counter',
    unit: '{chunk}',
    description:
      'Objects the Redis L2 adapter did not store: skipped while the breaker was open, or lost to a failed command. Never queued for later.',
    attributes: [
      {
        name: ATTR.L2_DROP_REASON,
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
      { name: ATTR.L2_OPERATION, values: ['store', 'lookup', 'load', 'delete'], description: 'The L2 operation.' },
    ],
  },
  {
    name: 'tierkv.l2.redis.corrupt',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Values read from Redis that failed verification and were treated as a miss (never returned as data).',
    attributes: [
      {
        name: ATTR.L2_CORRUPT_REASON,
        values: ['truncated', 'bad_header', 'checksum', 'key_mismatch', 'size_mismatch', 'layout_mismatch'],
        description:
          '`truncated`: shorter than its header says; `bad_header`: not a tierkv value (magic, version or checksum algorithm); `checksum`: the payload does not match its checksum (XXH3-64, or CRC-32 in older values); `key_mismatch`: stored under another key; `size_mismatch`: intact, but not the size the caller expected; `layout_mismatch`: intact, but stored with another layout than the one asked for (a miss, kept).',
      },
    ],
  },
];
