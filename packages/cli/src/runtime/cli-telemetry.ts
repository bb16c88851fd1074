import { ConfigError } from '@tierkv/core';
import { startTelemetry, type StartTelemetryOptions, type TelemetryHandle } from '@tierkv/otel';

export interface CliTelemetryOptions {
  /** Exporter names from the command's config; undefined lets OTEL_METRICS_EXPORTER (or the default) decide. */
  readonly exporters?: readonly string[] | undefined;
  readonly serviceName: string;
  readonly prometheus?: { host?: string | undefined; port?: number | undefined; preventServerStart?: boolean };
  /** The flag that sets the Prometheus port, for the "port in use" message. @default '--metrics-port' */
  readonly portFlag?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Push interval when OTEL_METRIC_EXPORT_INTERVAL is unset (the demo exports every few seconds). */
  readonly defaultExportIntervalMillis?: number;
}

/**
 * Starts @tierkv/otel for a command. OTEL_* variables apply as documented there; our flags win.
 * A Prometheus port in use becomes a ConfigError naming the port and the flag that moves it.
 */
export async function startCliTelemetry(options: CliTelemetryOptions): Promise<TelemetryHandle> {
  const env = options.env ?? process.env;
  const prometheus: NonNullable<StartTelemetryOptions['prometheus']> = {};
  if (options.prometheus?.host !== undefined) prometheus.host = options.prometheus.host;
  if (options.prometheus?.port !== undefined) prometheus.port = options.prometheus.port;
  if (options.prometheus?.preventServerStart !== undefined) prometheus.preventServerStart = options.prometheus.preventServerStart;
  const telemetryOptions: StartTelemetryOptions = {
    prometheus,
    env,
    // OTEL_SERVICE_NAME still wins: it is the operator's name for this process.
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    ...(options.defaultExportIntervalMillis !== undefined && !env.OTEL_METRIC_EXPORT_INTERVAL && !env.OTEL_METRIC_EXPORT_TIMEOUT
      ? { exportIntervalMillis: options.defaultExportIntervalMillis }
      : {}),
    ...(options.exporters !== undefined ? { exporters: options.exporters as StartTelemetryOptions['exporters'] } : {}),
  };
  try {
    return await startTelemetry(telemetryOptions);
  } catch (err) {
    if (err instanceof ConfigError && err.field === 'prometheus.port') {
      const host = prometheus.host ?? env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1';
      const port = prometheus.port ?? env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464;
      const flag = options.portFlag ?? '--metrics-port';
      throw new ConfigError(
        flag,
        `the Prometheus endpoint cannot listen on ${host}:${port} (${err.cause instanceof Error && (err.cause as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'port in use: another tierkv process or exporter?' : err.message}); choose another port with ${flag} <port> (0 = any free port)`,
        { cause: err },
      );
    }
    throw err;
  }
}
