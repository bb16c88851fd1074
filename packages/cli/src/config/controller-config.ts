import { z } from 'zod';
import type { ConfigField } from './config-field.js';
import { enumListSchema, hostSchema, intSchema, portSchema, stringSchema } from './leaf-schemas.js';
import { METRICS_EXPORTERS } from './server-config.js';

export const controllerConfigSchema = z.strictObject({
  host: hostSchema(),
  pullPort: portSchema(),
  replyPort: portSchema(),
  http: z.strictObject({
    host: hostSchema(),
    port: portSchema(),
    token: stringSchema('a bearer token').optional(),
  }),
  heartbeatTimeoutMs: intSchema(100, 86_400_000, 'a timeout in milliseconds').optional(),
  syncTimeoutMs: intSchema(100, 86_400_000, 'a timeout in milliseconds').optional(),
  metrics: z.strictObject({
    exporters: enumListSchema(METRICS_EXPORTERS).optional(),
    host: hostSchema().optional(),
    port: portSchema().optional(),
  }),
});

export type ControllerConfig = z.output<typeof controllerConfigSchema>;

export const DEFAULT_CONTROLLER_PULL_PORT = 7410;
export const DEFAULT_CONTROLLER_REPLY_PORT = 7411;
export const DEFAULT_CONTROLLER_HTTP_PORT = 7412;

export const DEFAULT_CONTROLLER_CONFIG = {
  host: '127.0.0.1',
  pullPort: DEFAULT_CONTROLLER_PULL_PORT,
  replyPort: DEFAULT_CONTROLLER_REPLY_PORT,
  http: { host: '127.0.0.1', port: DEFAULT_CONTROLLER_HTTP_PORT },
  metrics: {},
} satisfies Record<string, unknown>;

export const CONTROLLER_CONFIG_FIELDS: readonly ConfigField[] = [
  { path: 'host', flags: '--host <host>', env: 'TIERKV_CONTROLLER_HOST', description: 'bind address of the ZeroMQ sockets (default 127.0.0.1)' },
  { path: 'pullPort', flags: '--pull-port <port>', env: 'TIERKV_CONTROLLER_PULL_PORT', description: `PULL port for worker KV events (default ${DEFAULT_CONTROLLER_PULL_PORT}); workers use tcp://<host>:<pull-port>` },
  { path: 'replyPort', flags: '--reply-port <port>', env: 'TIERKV_CONTROLLER_REPLY_PORT', description: `ROUTER port for register/heartbeat/lookup requests (default ${DEFAULT_CONTROLLER_REPLY_PORT})` },
  { path: 'http.host', flags: '--http-host <host>', env: 'TIERKV_CONTROLLER_HTTP_HOST', description: 'HTTP API bind address (default 127.0.0.1)' },
  { path: 'http.port', flags: '--http-port <port>', env: 'TIERKV_CONTROLLER_HTTP_PORT', description: `HTTP API port: lookups, workers, health, /metrics (default ${DEFAULT_CONTROLLER_HTTP_PORT})` },
  { path: 'http.token', flags: '--token <token>', env: 'TIERKV_CONTROLLER_TOKEN', description: 'require "Authorization: Bearer <token>" on the HTTP API' },
  { path: 'heartbeatTimeoutMs', flags: '--heartbeat-timeout <ms>', env: 'TIERKV_CONTROLLER_HEARTBEAT_TIMEOUT_MS', description: 'deregister a worker silent this long (default: the controller\'s)' },
  { path: 'syncTimeoutMs', flags: '--sync-timeout <ms>', env: 'TIERKV_CONTROLLER_SYNC_TIMEOUT_MS', description: 'fail a full sync that takes longer (default: the controller\'s)' },
  { path: 'metrics.exporters', flags: '--metrics-exporter <list>', env: 'TIERKV_METRICS_EXPORTER', description: `comma-separated exporters: ${METRICS_EXPORTERS.join(', ')} (default: OTEL_METRICS_EXPORTER, else prometheus on the HTTP port's /metrics)` },
  { path: 'metrics.host', flags: '--metrics-host <host>', env: 'TIERKV_METRICS_HOST', description: 'also serve Prometheus on this address (with --metrics-port)' },
  { path: 'metrics.port', flags: '--metrics-port <port>', env: 'TIERKV_METRICS_PORT', description: 'also serve Prometheus on its own port (default: only the HTTP API\'s /metrics)' },
];
