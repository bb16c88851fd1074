import { z } from 'zod';
import type { ConfigField } from './config-field.js';
import {
  booleanSchema,
  enumSchema,
  hostPortListSchema,
  hostSchema,
  intSchema,
  numberSchema,
  portSchema,
  redisKeyPrefixSchema,
  stringSchema,
  urlSchema,
} from './leaf-schemas.js';
import { EVICTION_POLICIES, METRICS_EXPORTERS, evictionSchema, fsBudgetSchema, l1SizeSchema, metricsSchema, redisUrlSchema } from './shared-config.js';


/** @tierkv/server's store acknowledgements (its DURABILITIES; kept here so --help loads no server code). */
export const DURABILITIES = ['memory', 'l2'] as const;
/** @tierkv/server's transports (its SERVER_TRANSPORTS; kept here for the same reason). */
export const SERVER_TRANSPORTS = ['zeromq', 'tcp'] as const;

/** @tierkv/l2-redis's value checksums. */
export const REDIS_CHECKSUMS = ['xxh3', 'crc32', 'none'] as const;

/** The schema of `tierkv server`'s configuration (config file layout = this shape). */
export const serverConfigSchema = z.strictObject({
  l1: z.strictObject({
    size: l1SizeSchema(),
    eviction: evictionSchema(),
    watermark: numberSchema(0, 1, { what: 'a usage fraction' }),
    evictionRatio: numberSchema(0, 1, { what: 'a fraction of capacity' }),
  }),
  chunkSize: intSchema(1, 1 << 20, 'a number of tokens per chunk'),
  l2: z.strictObject({
    fs: z.strictObject({
      enabled: booleanSchema(),
      path: stringSchema('a directory path'),
      budget: fsBudgetSchema().optional(),
      fsync: booleanSchema().optional(),
    }),
    /** A Redis L2 tier when `url` or `cluster` is set; names follow @tierkv/l2-redis's options. */
    redis: z
      .strictObject({
        url: redisUrlSchema().optional(),
        cluster: hostPortListSchema('10.0.0.1:7000,10.0.0.2:7000').optional(),
        keyPrefix: redisKeyPrefixSchema().optional(),
        ttlSeconds: intSchema(0, 0x7fff_ffff, 'whole seconds (0 = no expiry)').optional(),
        operationTimeoutMs: intSchema(1, 3_600_000, 'a timeout in milliseconds').optional(),
        connectTimeoutMs: intSchema(1, 3_600_000, 'a timeout in milliseconds').optional(),
        checksum: enumSchema(REDIS_CHECKSUMS).optional(),
      })
      .superRefine((redis, ctx) => {
        // The adapter would silently prefer the cluster; say so instead.
        if (redis.url !== undefined && redis.cluster !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['cluster'], message: 'give either a Redis URL (--redis-url) or cluster seed nodes (--redis-cluster), not both' });
        }
      }),
  }),
  server: z
    .strictObject({
    host: hostSchema(),
    port: portSchema(),
    httpHost: hostSchema(),
    httpPort: portSchema(),
    requestTimeoutMs: intSchema(1, 3_600_000, 'a timeout in milliseconds').optional(),
    /** Clients must present it (CURVE on the request socket); unset: no credential. */
    authToken: stringSchema('a shared secret').optional(),
    durability: enumSchema(DURABILITIES),
    /** Opt-in: model name and cache salt on the server and storage request histograms. */
    perModelAttributes: booleanSchema().optional(),
    /** Distinct (model, salt) pairs reported with --per-model-attributes; the rest are `_OTHER`. */
    perModelAttributesLimit: intSchema(1, 10_000, 'a number of model/salt pairs').optional(),
    transport: enumSchema(SERVER_TRANSPORTS),
  })
    .superRefine((server, ctx) => {
      // Plain TCP has no CURVE: a token there would protect nothing (docs/security.md).
      if (server.transport === 'tcp' && server.authToken !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['authToken'], message: "--transport tcp has no authentication or encryption; use --transport zeromq with --token, or keep a tcp server on loopback or a private network" });
      }
    }),
  metrics: metricsSchema(),
  controller: z.strictObject({
    /** The controller's ROUTER endpoint; unset: no controller. */
    url: urlSchema(['tcp'], 'tcp://127.0.0.1:9301').optional(),
    /** The controller's PULL endpoint. Unset: the one the controller names when the server registers. */
    pullUrl: urlSchema(['tcp'], 'tcp://127.0.0.1:9300').optional(),
    /** This server's instance id at the controller. Unset: `tierkv-server@<hostname>:<port>`. */
    instanceId: stringSchema('an instance id').optional(),
    workerId: intSchema(0, 0xffff_ffff, 'a worker number').optional(),
    /** The controller's --token, when it has one. */
    authToken: stringSchema('a shared secret').optional(),
  }),
  /** Publish this server's holdings as vLLM KV events (docs/vllm.md#publishing-to-vllm-routers); unset port: off. */
  vllmEvents: z
    .strictObject({
      port: portSchema().optional(),
      replayPort: portSchema().optional(),
      topic: z.string().max(1024).optional(),
    })
    .superRefine((v, ctx) => {
      if (v.port === undefined && (v.replayPort !== undefined || v.topic !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['port'], message: '--vllm-replay-port and --vllm-events-topic need --vllm-events-port' });
      }
    }),
});

export type ServerConfig = z.output<typeof serverConfigSchema>;

/** The same defaults as @tierkv/server's DEFAULT_SERVER_OPTIONS. */
export const DEFAULT_SERVER_PORT = 5555;
export const DEFAULT_SERVER_HTTP_PORT = 8088;

/** Defaults of `tierkv server` (DESIGN.md's one-machine defaults). */
export const DEFAULT_SERVER_CONFIG = {
  l1: { size: '256MiB', eviction: 'clock', watermark: 0.8, evictionRatio: 0.1 },
  chunkSize: 256,
  l2: { fs: { enabled: true, path: './.tierkv/l2' }, redis: {} },
  server: { transport: 'zeromq', host: '127.0.0.1', port: DEFAULT_SERVER_PORT, httpHost: '127.0.0.1', httpPort: DEFAULT_SERVER_HTTP_PORT, durability: 'memory' },
  metrics: {},
  controller: {},
  vllmEvents: {},
} satisfies Record<string, unknown>;

/** Flags and environment variables of `tierkv server`, by config path. */
export const SERVER_CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'l1.size', flags: '--l1-size <size>', env: 'TIERKV_L1_SIZE', description: 'L1 (memory) capacity, e.g. 4GiB (default 256MiB)' },
  { path: 'l1.eviction', flags: '--eviction <policy>', env: 'TIERKV_EVICTION', description: `L1 eviction policy: ${EVICTION_POLICIES.join(', ')} (default clock)` },
  { path: 'l1.watermark', flags: '--watermark <fraction>', env: 'TIERKV_WATERMARK', description: 'L1 usage fraction at which eviction starts (default 0.8)' },
  { path: 'l1.evictionRatio', flags: '--eviction-ratio <fraction>', env: 'TIERKV_EVICTION_RATIO', description: 'fraction of L1 freed once eviction starts (default 0.1)' },
  { path: 'chunkSize', flags: '--chunk-size <tokens>', env: 'TIERKV_CHUNK_SIZE', description: 'tokens per chunk for server-side token hashing (default 256)' },
  { path: 'l2.fs.enabled', flags: '--no-fs', env: 'TIERKV_FS_ENABLED', description: 'disable the filesystem L2 tier (env: true/false)' },
  { path: 'l2.fs.path', flags: '--fs-path <dir>', env: 'TIERKV_FS_PATH', description: 'filesystem L2 directory (default ./.tierkv/l2)' },
  { path: 'l2.fs.budget', flags: '--fs-budget <size>', env: 'TIERKV_FS_BUDGET', description: 'filesystem L2 byte budget, e.g. 100GiB (default: the adapter\'s)' },
  { path: 'l2.fs.fsync', flags: '--fs-fsync', env: 'TIERKV_FS_FSYNC', description: 'fsync every filesystem L2 object and its directory before it counts as stored: with --durability l2 an acknowledged store survives power loss (slower; env: true/false)' },
  { path: 'l2.redis.url', flags: '--redis-url <url>', env: 'TIERKV_REDIS_URL', description: 'add a Redis/Valkey L2 tier after the filesystem one, e.g. redis://127.0.0.1:6379' },
  { path: 'l2.redis.cluster', flags: '--redis-cluster <nodes>', env: 'TIERKV_REDIS_CLUSTER', description: 'add a Redis Cluster L2 tier instead: comma-separated seed nodes, e.g. 10.0.0.1:7000,10.0.0.2:7000' },
  { path: 'l2.redis.keyPrefix', flags: '--redis-key-prefix <prefix>', env: 'TIERKV_REDIS_KEY_PREFIX', description: 'prefix of every Redis key, one per deployment sharing a Redis; no { or } (default tierkv:)' },
  { path: 'l2.redis.ttlSeconds', flags: '--redis-ttl <seconds>', env: 'TIERKV_REDIS_TTL', description: 'expire Redis objects this long after their last store or lookup (default 0: never, Redis evicts)' },
  { path: 'l2.redis.operationTimeoutMs', flags: '--redis-timeout <ms>', env: 'TIERKV_REDIS_TIMEOUT_MS', description: 'deadline of every Redis round trip (default 2000)' },
  { path: 'l2.redis.connectTimeoutMs', flags: '--redis-connect-timeout <ms>', env: 'TIERKV_REDIS_CONNECT_TIMEOUT_MS', description: 'deadline for connecting; startup waits at most this long for Redis, then serves without it until it connects (default 2000)' },
  { path: 'l2.redis.checksum', flags: '--redis-checksum <kind>', env: 'TIERKV_REDIS_CHECKSUM', description: `value checksum: ${REDIS_CHECKSUMS.join(', ')} (default xxh3)` },
  { path: 'server.transport', flags: '--transport <name>', env: 'TIERKV_TRANSPORT', description: `how requests travel: zeromq (tcp:// endpoints, CURVE with --token) or tcp (plain TCP, tierkv+tcp:// endpoints: zero-copy replies, faster, no --token); see docs/server.md (default zeromq)` },
  { path: 'server.host', flags: '--host <host>', env: 'TIERKV_HOST', description: 'request socket bind address (default 127.0.0.1)' },
  { path: 'server.port', flags: '--port <port>', env: 'TIERKV_PORT', description: `request port clients connect to (default ${DEFAULT_SERVER_PORT}; 0 = any free port)` },
  { path: 'server.httpHost', flags: '--http-host <host>', env: 'TIERKV_HTTP_HOST', description: 'HTTP bind address for /healthz, /status, /metrics (default 127.0.0.1)' },
  { path: 'server.httpPort', flags: '--http-port <port>', env: 'TIERKV_HTTP_PORT', description: `HTTP port (default ${DEFAULT_SERVER_HTTP_PORT}; 0 = any free port)` },
  { path: 'server.requestTimeoutMs', flags: '--request-timeout <ms>', env: 'TIERKV_REQUEST_TIMEOUT_MS', description: 'per-request deadline on the server (default: the server\'s)' },
  { path: 'server.authToken', flags: '--token <token>', env: 'TIERKV_SERVER_AUTH_TOKEN', description: 'require this shared secret of every client: the request socket speaks CURVE with keys derived from it (clients pass the same token); see docs/security.md' },
  { path: 'server.durability', flags: '--durability <mode>', env: 'TIERKV_DURABILITY', description: `what a store's acknowledgement waits for unless the client asks: ${DURABILITIES.join(', ')} (default memory: in L1; l2: on every L2 tier, needs one)` },
  { path: 'server.perModelAttributes', flags: '--per-model-attributes', env: 'TIERKV_PER_MODEL_ATTRIBUTES', description: 'add the model name (gen_ai.request.model) and cache salt (tierkv.cache.salt) to tierkv.server.request.duration and tierkv.storage.prefetch.duration, for at most --per-model-attributes-limit pairs (default off: every model and tenant multiplies the series; env: true/false)' },
  { path: 'server.perModelAttributesLimit', flags: '--per-model-attributes-limit <n>', env: 'TIERKV_PER_MODEL_ATTRIBUTES_LIMIT', description: 'with --per-model-attributes: distinct model/salt pairs reported; later ones are reported as _OTHER (default 50)' },
  { path: 'metrics.exporters', flags: '--metrics-exporter <list>', env: 'TIERKV_METRICS_EXPORTER', description: `comma-separated exporters: ${METRICS_EXPORTERS.join(', ')} (default: OTEL_METRICS_EXPORTER, else prometheus on the HTTP side's /metrics, plus otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set)` },
  { path: 'metrics.host', flags: '--metrics-host <host>', env: 'TIERKV_METRICS_HOST', description: 'bind address of the standalone Prometheus endpoint (with --metrics-port)' },
  { path: 'metrics.port', flags: '--metrics-port <port>', env: 'TIERKV_METRICS_PORT', description: 'also serve Prometheus on its own port (default: only the HTTP side\'s /metrics)' },
  { path: 'controller.url', flags: '--controller-url <url>', env: 'TIERKV_CONTROLLER_URL', description: 'report this server\'s chunks to a tierkv controller at its router endpoint, e.g. tcp://127.0.0.1:9301' },
  { path: 'controller.pullUrl', flags: '--controller-pull-url <url>', env: 'TIERKV_CONTROLLER_PULL_URL', description: 'the controller\'s PULL endpoint for KV events; overrides the one the controller names at registration (default: that one, so --controller-url alone is enough)' },
  { path: 'controller.instanceId', flags: '--instance-id <id>', env: 'TIERKV_INSTANCE_ID', description: 'this server\'s instance id at the controller (default tierkv-server@<hostname>:<port>, the port actually bound)' },
  { path: 'controller.authToken', flags: '--controller-token <token>', env: 'TIERKV_CONTROLLER_AUTH_TOKEN', description: 'the controller\'s --token, when it has one' },
  { path: 'controller.workerId', flags: '--worker-id <n>', env: 'TIERKV_WORKER_ID', description: 'this server\'s worker number within its instance (default 0)' },
  { path: 'vllmEvents.port', flags: '--vllm-events-port <port>', env: 'TIERKV_VLLM_EVENTS_PORT', description: 'publish this server\'s chunks as vLLM KV events (BlockStored/BlockRemoved) on a ZeroMQ PUB socket at --host:<port>, for llm-d and Dynamo routers (default: off)' },
  { path: 'vllmEvents.replayPort', flags: '--vllm-replay-port <port>', env: 'TIERKV_VLLM_REPLAY_PORT', description: 'with --vllm-events-port: a replay ROUTER at --host:<port> that resends recent batches from a sequence number (default: no replay)' },
  { path: 'vllmEvents.topic', flags: '--vllm-events-topic <topic>', env: 'TIERKV_VLLM_EVENTS_TOPIC', description: 'with --vllm-events-port: the topic frame of every message (default empty)' },
];
