import { z } from 'zod';
import type { ConfigField } from './config-field.js';
import { booleanSchema, intSchema, numberSchema, sizeSchema, stringSchema } from './leaf-schemas.js';
import { EVICTION_POLICIES, METRICS_EXPORTERS, evictionSchema, fsBudgetSchema, l1SizeSchema, metricsSchema, redisUrlSchema } from './shared-config.js';

/** The schema of `tierkv demo`'s settings. */
export const demoConfigSchema = z.strictObject({
  duration: numberSchema(0, 86_400, { what: 'a duration in seconds' }),
  clients: intSchema(1, 256, 'a number of clients'),
  seed: intSchema(0, 0xffff_ffff, 'a seed'),
  sessions: intSchema(1, 100_000, 'a number of sessions per client'),
  dataDir: stringSchema('a directory path'),
  fresh: booleanSchema(),
  clean: booleanSchema(),
  chunkTokens: intSchema(16, 1 << 16, 'a number of tokens per chunk'),
  chunkBytes: sizeSchema({ min: 1024 }),
  l1: z.strictObject({
    size: l1SizeSchema(),
    eviction: evictionSchema(),
  }),
  l2: z.strictObject({
    fsBudget: fsBudgetSchema(),
    redisUrl: redisUrlSchema().optional(),
  }),
  /** `host` is always set: DEFAULT_DEMO_CONFIG gives 127.0.0.1. */
  metrics: metricsSchema(),
  controller: z.strictObject({ enabled: booleanSchema() }),
  /** Storage servers; unset: 1, or 2 with `vllm` (so the scores have something to choose between). */
  servers: intSchema(1, 16, 'a number of servers').optional(),
  /** Scored routing over vLLM KV events (docs/vllm.md#try-it). */
  vllm: booleanSchema(),
}).superRefine((c, ctx) => {
  if (c.vllm && !c.controller.enabled) ctx.addIssue({ code: 'custom', path: ['vllm'], message: '--vllm routes by the controller\'s scores: it needs the controller (drop --no-controller)' });
});

export type DemoConfig = z.output<typeof demoConfigSchema>;

/** `tierkv server`'s defaults, plus a workload that outgrows L1 so the filesystem L2 serves hits. */
export const DEFAULT_DEMO_CONFIG = {
  duration: 20,
  clients: 4,
  seed: 1,
  sessions: 32,
  dataDir: './.tierkv',
  fresh: false,
  clean: false,
  chunkTokens: 256,
  chunkBytes: '128KiB',
  l1: { size: '256MiB', eviction: 'clock' },
  l2: { fsBudget: '1GiB' },
  metrics: { host: '127.0.0.1' },
  controller: { enabled: true },
  vllm: false,
} satisfies Record<string, unknown>;

export const DEMO_CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'duration', flags: '--duration <seconds>', env: 'TIERKV_DEMO_DURATION', description: 'how long the workload runs (default 20)' },
  { path: 'clients', flags: '--clients <n>', env: 'TIERKV_DEMO_CLIENTS', description: 'concurrent TierkvClients driving the workload (default 4)' },
  { path: 'seed', flags: '--seed <n>', env: 'TIERKV_DEMO_SEED', description: 'workload seed; the same seed replays the same prompts (default 1)' },
  { path: 'sessions', flags: '--sessions <n>', description: 'conversations per client (default 32)' },
  { path: 'dataDir', flags: '--data-dir <dir>', env: 'TIERKV_DATA_DIR', description: 'where the filesystem L2 keeps its files, in <dir>/demo-l2 (default ./.tierkv)' },
  { path: 'fresh', flags: '--fresh', description: 'delete the demo\'s L2 data before the run (otherwise a rerun starts with a warm L2)' },
  { path: 'clean', flags: '--clean', description: 'delete the demo\'s L2 data after the run (<dir>/demo-l2, up to the fs budget: 1GiB by default), and <dir> too if that leaves it empty' },
  { path: 'chunkTokens', flags: '--chunk-size <tokens>', env: 'TIERKV_CHUNK_SIZE', description: 'tokens per chunk (default 256)' },
  { path: 'chunkBytes', flags: '--chunk-bytes <size>', description: 'bytes of KV data per chunk (default 128KiB)' },
  { path: 'l1.size', flags: '--l1-size <size>', env: 'TIERKV_L1_SIZE', description: 'L1 (memory) capacity (default 256MiB)' },
  { path: 'l1.eviction', flags: '--eviction <policy>', env: 'TIERKV_EVICTION', description: `L1 eviction policy: ${EVICTION_POLICIES.join(', ')} (default clock)` },
  { path: 'l2.fsBudget', flags: '--fs-budget <size>', env: 'TIERKV_FS_BUDGET', description: 'filesystem L2 byte budget (default 1GiB)' },
  { path: 'l2.redisUrl', flags: '--redis-url <url>', env: 'TIERKV_REDIS_URL', description: 'add a Redis/Valkey L2 tier, e.g. redis://127.0.0.1:6379' },
  { path: 'metrics.exporters', flags: '--metrics-exporter <list>', env: 'TIERKV_METRICS_EXPORTER', description: `comma-separated exporters: ${METRICS_EXPORTERS.join(', ')} (default: OTEL_METRICS_EXPORTER, else prometheus, plus otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set)` },
  { path: 'metrics.host', flags: '--metrics-host <host>', env: 'TIERKV_METRICS_HOST', description: 'Prometheus exporter bind address (default 127.0.0.1)' },
  { path: 'metrics.port', flags: '--metrics-port <port>', env: 'TIERKV_METRICS_PORT', description: 'Prometheus exporter port (default: OTEL_EXPORTER_PROMETHEUS_PORT, else 9464)' },
  { path: 'controller.enabled', flags: '--no-controller', description: 'run without the cache controller' },
  { path: 'servers', flags: '--servers <n>', description: 'storage servers, each with its own L1 and filesystem L2; requests go to the one the controller routes them to (default 1; 2 with --vllm)' },
  {
    path: 'vllm',
    flags: '--vllm',
    description: 'scored routing over vLLM KV events: each server also publishes its holdings as vLLM KV events, the controller follows them, and every request goes to the best-scored server (ControllerClient.score); see docs/vllm.md',
  },
];
