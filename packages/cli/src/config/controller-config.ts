import { z } from 'zod';
import { parseVllmPublisherSpec, resolveVllmPublisher } from '@tierkv/controller';
import type { ConfigField } from './config-field.js';
import { hostSchema, intSchema, portSchema, stringSchema } from './leaf-schemas.js';
import { METRICS_EXPORTERS, metricsSchema } from './shared-config.js';

/** The schema of `tierkv controller`'s configuration (names follow @tierkv/controller's options). */
export const controllerConfigSchema = z.strictObject({
  host: hostSchema(),
  pullPort: portSchema(),
  routerPort: portSchema(),
  heartbeatPort: portSchema().optional(),
  queryPort: portSchema().optional(),
  httpHost: hostSchema(),
  httpPort: portSchema(),
  authToken: stringSchema('a bearer token').optional(),
  workerTimeoutMs: intSchema(100, 86_400_000, 'a timeout in milliseconds').optional(),
  syncTimeoutMs: intSchema(100, 86_400_000, 'a timeout in milliseconds').optional(),
  chunkSize: intSchema(1, 1 << 20, 'a number of tokens per chunk'),
  // Flags give `name=w1,endpoint=...` strings; a config file may give those or objects.
  vllmPublishers: z.array(z.unknown()).max(256).transform((list, ctx) => {
    try {
      return list.map((p) => (typeof p === 'string' ? parseVllmPublisherSpec(p) : resolveVllmPublisher(p)));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }).optional(),
  vllmReplayTimeoutMs: intSchema(10, 600_000, 'a timeout in milliseconds').optional(),
  metrics: metricsSchema(),
});

export type ControllerConfig = z.output<typeof controllerConfigSchema>;

export const DEFAULT_CONTROLLER_PULL_PORT = 9300;
export const DEFAULT_CONTROLLER_ROUTER_PORT = 9301;
export const DEFAULT_CONTROLLER_HTTP_PORT = 9302;

export const DEFAULT_CONTROLLER_CONFIG = {
  host: '127.0.0.1',
  pullPort: DEFAULT_CONTROLLER_PULL_PORT,
  routerPort: DEFAULT_CONTROLLER_ROUTER_PORT,
  httpHost: '127.0.0.1',
  httpPort: DEFAULT_CONTROLLER_HTTP_PORT,
  chunkSize: 256,
  metrics: {},
} satisfies Record<string, unknown>;

export const CONTROLLER_CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'host', flags: '--host <host>', env: 'TIERKV_CONTROLLER_HOST', description: 'bind address of the ZeroMQ sockets (default 127.0.0.1)' },
  { path: 'pullPort', flags: '--pull-port <port>', env: 'TIERKV_CONTROLLER_PULL_PORT', description: `PULL port for worker KV events (default ${DEFAULT_CONTROLLER_PULL_PORT})` },
  { path: 'routerPort', flags: '--router-port <port>', env: 'TIERKV_CONTROLLER_ROUTER_PORT', description: `ROUTER port for register, heartbeat, sync and lookup requests (default ${DEFAULT_CONTROLLER_ROUTER_PORT}); servers use --controller-url tcp://<host>:<router-port>` },
  { path: 'heartbeatPort', flags: '--heartbeat-port <port>', env: 'TIERKV_CONTROLLER_HEARTBEAT_PORT', description: 'separate ROUTER port for heartbeats (default: off, heartbeats use the router port)' },
  { path: 'queryPort', flags: '--query-port <port>', env: 'TIERKV_CONTROLLER_QUERY_PORT', description: 'also answer lookup, score and query_workers over plain TCP on this port (clients use query: tierkv+tcp://<host>:<port>; the fastest lookup path; not with --token, as plain TCP has no authentication) (default: off)' },
  { path: 'httpHost', flags: '--http-host <host>', env: 'TIERKV_CONTROLLER_HTTP_HOST', description: 'HTTP API bind address (default 127.0.0.1)' },
  { path: 'httpPort', flags: '--http-port <port>', env: 'TIERKV_CONTROLLER_HTTP_PORT', description: `HTTP API port: lookups, workers, health, /metrics (default ${DEFAULT_CONTROLLER_HTTP_PORT})` },
  { path: 'authToken', flags: '--token <token>', env: 'TIERKV_CONTROLLER_AUTH_TOKEN', description: 'require this shared secret of every peer: "Authorization: Bearer <token>" on the HTTP API (except /health), CURVE on the ZeroMQ sockets (servers pass it as --controller-token)' },
  { path: 'workerTimeoutMs', flags: '--worker-timeout <ms>', env: 'TIERKV_CONTROLLER_WORKER_TIMEOUT_MS', description: 'deregister a worker silent this long (default 30000)' },
  { path: 'syncTimeoutMs', flags: '--sync-timeout <ms>', env: 'TIERKV_CONTROLLER_SYNC_TIMEOUT_MS', description: 'fail a full sync that receives no batch for this long, and ask the server again (default 15000)' },
  { path: 'chunkSize', flags: '--chunk-size <tokens>', env: 'TIERKV_CHUNK_SIZE', description: 'tokens per chunk for lookups given as tokens (default 256)' },
  { path: 'vllmPublishers', flags: '--vllm-publisher <spec...>', description: 'follow a vLLM engine\'s KV events (repeatable): name=w1,endpoint=tcp://host:5557[,replay=tcp://host:5558][,topic=..][,rank=0][,hash-algo=sha256_cbor][,hash-seed=..][,block-size=16],model=Qwen/Qwen3-0.6B (see docs/vllm.md)' },
  { path: 'vllmReplayTimeoutMs', flags: '--vllm-replay-timeout <ms>', description: 'deadline per frame of a vLLM replay before the gap counts as unrecoverable (default 2000)' },
  { path: 'metrics.exporters', flags: '--metrics-exporter <list>', env: 'TIERKV_METRICS_EXPORTER', description: `comma-separated exporters: ${METRICS_EXPORTERS.join(', ')} (default: OTEL_METRICS_EXPORTER, else prometheus on the HTTP API's /metrics, plus otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set)` },
  { path: 'metrics.host', flags: '--metrics-host <host>', env: 'TIERKV_METRICS_HOST', description: 'bind address of the standalone Prometheus endpoint (with --metrics-port)' },
  { path: 'metrics.port', flags: '--metrics-port <port>', env: 'TIERKV_METRICS_PORT', description: 'also serve Prometheus on its own port (default: only the HTTP API\'s /metrics)' },
];
