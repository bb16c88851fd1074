import type { TelemetryHandle } from '@tierkv/otel';
import { startCliTelemetry } from './cli-telemetry.js';
import { withTimeout } from './step-timeout.js';

/** What the server and controller stacks are started with. */
export interface StackOptions {
  log?: (line: string) => void;
  /** Use this telemetry (the demo's) instead of starting one; it is then not shut down here. */
  telemetry?: TelemetryHandle;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface StackTelemetry {
  readonly handle: TelemetryHandle;
  /** The final metric export and shutdown (bounded, never throws); nothing for the caller's telemetry. */
  finish(): Promise<void>;
}

/**
 * A stack's telemetry: the caller's, or its own with Prometheus served on the stack's HTTP
 * `/metrics`, plus a standalone endpoint when a metrics port (or OTEL_EXPORTER_PROMETHEUS_PORT) is
 * given; OTLP per OTEL_*.
 */
export async function startStackTelemetry(
  serviceName: string,
  metrics: { exporters?: readonly string[] | undefined; host?: string | undefined; port?: number | undefined },
  options: StackOptions,
): Promise<StackTelemetry> {
  if (options.telemetry) return { handle: options.telemetry, finish: async () => undefined };
  const env = options.env ?? process.env;
  const standalonePrometheus = metrics.port !== undefined || Boolean(env.OTEL_EXPORTER_PROMETHEUS_PORT);
  const handle = await startCliTelemetry({
    exporters: metrics.exporters,
    serviceName,
    prometheus: { host: metrics.host, port: metrics.port, preventServerStart: !standalonePrometheus },
    env,
  });
  return { handle, finish: () => withTimeout('final metric export', 15_000, handle.shutdown()).catch(() => undefined) };
}
