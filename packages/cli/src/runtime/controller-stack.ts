import { CacheController, type ControllerAddresses } from '@tierkv/controller';
import type { TelemetryHandle } from '@tierkv/otel';
import type { ControllerConfig } from '../config/controller-config.js';
import { explainBindError } from './port-in-use.js';
import { startStackTelemetry, type StackOptions } from './stack-telemetry.js';
import { withTimeout } from './step-timeout.js';

export type ControllerStackOptions = StackOptions;

export interface RunningControllerStack {
  readonly controller: CacheController;
  readonly addresses: ControllerAddresses;
  readonly telemetry: TelemetryHandle;
  /** Close the sockets and the HTTP API, then the final metric export. */
  close(): Promise<void>;
}

/** `tierkv controller`'s process: telemetry (see startStackTelemetry) and the CacheController. */
export async function startControllerStack(config: ControllerConfig, options: ControllerStackOptions = {}): Promise<RunningControllerStack> {
  const log = options.log ?? (() => undefined);
  const stackTelemetry = await startStackTelemetry('tierkv-controller', config.metrics, options);
  const telemetry = stackTelemetry.handle;
  try {
    const controller = new CacheController({
      host: config.host,
      pullPort: config.pullPort,
      routerPort: config.routerPort,
      ...(config.heartbeatPort !== undefined ? { heartbeatPort: config.heartbeatPort } : {}),
      ...(config.queryPort !== undefined ? { queryPort: config.queryPort } : {}),
      httpHost: config.httpHost,
      httpPort: config.httpPort,
      ...(config.authToken !== undefined ? { authToken: config.authToken } : {}),
      ...(config.workerTimeoutMs !== undefined ? { workerTimeoutMs: config.workerTimeoutMs } : {}),
      ...(config.syncTimeoutMs !== undefined ? { syncTimeoutMs: config.syncTimeoutMs } : {}),
      chunkSize: config.chunkSize,
      ...(config.vllmPublishers ? { vllmPublishers: config.vllmPublishers } : {}),
      ...(config.vllmReplayTimeoutMs !== undefined ? { vllmReplayTimeoutMs: config.vllmReplayTimeoutMs } : {}),
      warn: (line) => log(`tierkv controller: ${line}`),
      ...(telemetry.exporters.includes('prometheus') ? { metrics: telemetry } : {}),
    });
    const addresses = await controller.start().catch((err: unknown) => {
      throw explainBindError(err, [
        { port: config.pullPort, flag: '--pull-port', kind: 'zmq' },
        { port: config.routerPort, flag: '--router-port', kind: 'zmq' },
        ...(config.heartbeatPort !== undefined ? [{ port: config.heartbeatPort, flag: '--heartbeat-port', kind: 'zmq' as const }] : []),
        ...(config.queryPort !== undefined ? [{ port: config.queryPort, flag: '--query-port', kind: 'http' as const }] : []),
        { port: config.httpPort, flag: '--http-port', kind: 'http' },
      ]);
    });
    log(`tierkv controller: events (PULL) ${addresses.pull}, requests (ROUTER) ${addresses.router}${addresses.heartbeat ? `, heartbeats ${addresses.heartbeat}` : ''}`);
    if (addresses.query) log(`tierkv controller: lookups over plain TCP ${addresses.query} (ControllerClient { query })`);
    if (addresses.http) log(`tierkv controller: http ${addresses.http} (GET /health /workers /keys/stats /metrics /vllm/publishers, POST /lookup /score /vllm/publishers)`);
    if (telemetry.prometheusUrl) log(`tierkv controller: prometheus ${telemetry.prometheusUrl}`);
    log(`tierkv controller: servers connect with --controller-url ${addresses.router} (the controller tells them where to push events)`);
    let closing: Promise<void> | undefined;
    return {
      controller,
      addresses,
      telemetry,
      close: () =>
        (closing ??= (async () => {
          await withTimeout('controller close', 10_000, controller.close()).catch((err: unknown) => log(`tierkv controller: ${(err as Error).message}`));
          await stackTelemetry.finish();
        })()),
    };
  } catch (err) {
    await stackTelemetry.finish();
    throw err;
  }
}
