import { VllmEventPublisher, WorkerClient } from '@tierkv/controller';
import type { PerModelAttributesOption } from '@tierkv/core';
import type { TelemetryHandle } from '@tierkv/otel';
import { TierkvServer, type ServerAddresses } from '@tierkv/server';
import type { RedisL2Options } from '@tierkv/l2-redis';
import type { StorageManager } from '@tierkv/storage';
import type { ServerConfig } from '../config/server-config.js';
import { formatSize } from '../config/sizes.js';
import { whileReporting, withTimeout } from './step-timeout.js';
import { explainBindError } from './port-in-use.js';
import { startStackTelemetry, type StackOptions } from './stack-telemetry.js';
import { openStorage } from './storage-stack.js';

export interface ServerStackOptions extends StackOptions {
  /** Warnings (e.g. Redis unreachable at startup). @default log */
  warn?: (line: string) => void;
}

export interface RunningServerStack {
  readonly server: TierkvServer;
  readonly storage: StorageManager;
  readonly addresses: ServerAddresses;
  readonly telemetry: TelemetryHandle;
  /** The controller worker client, when a controller URL is configured. */
  readonly worker: WorkerClient | undefined;
  /** The vLLM KV event publisher, when --vllm-events-port is set. */
  readonly vllmEvents: VllmEventPublisher | undefined;
  /** Drain the server, flush L2 stores (closing storage), stop reporting, final metric export. */
  close(): Promise<void>;
  /** What exiting now would lose (acknowledged stores not yet on L2), or undefined when nothing. */
  forcedExit(): string | undefined;
}

/**
 * `tierkv server`'s process: telemetry (see startStackTelemetry), L2 adapters, the StorageManager,
 * the controller worker client when a controller URL is set, and the server.
 */
export async function startServerStack(config: ServerConfig, options: ServerStackOptions = {}): Promise<RunningServerStack> {
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? log;
  const stackTelemetry = await startStackTelemetry('tierkv-server', config.metrics, options);
  const telemetry = stackTelemetry.handle;
  const cleanup: (() => Promise<unknown>)[] = [() => stackTelemetry.finish()];
  try {
    const storage = await openStorage({
      l1: config.l1,
      chunkTokens: config.chunkSize,
      fs: config.l2.fs.enabled ? { path: config.l2.fs.path, budget: config.l2.fs.budget, fsync: config.l2.fs.fsync } : undefined,
      redis: redisOptionsOf(config.l2.redis),
      warn: (line) => warn(`tierkv server: ${line}`),
      perModelAttributes: perModelAttributesOf(config.server),
    });
    cleanup.unshift(() => storage.close());
    const server = new TierkvServer({
      storage,
      transport: config.server.transport,
      host: config.server.host,
      port: config.server.port,
      httpHost: config.server.httpHost,
      httpPort: config.server.httpPort,
      chunkSize: config.chunkSize,
      durability: config.server.durability,
      perModelAttributes: perModelAttributesOf(config.server),
      ...(config.server.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.server.requestTimeoutMs } : {}),
      ...(config.server.authToken !== undefined ? { authToken: config.server.authToken } : {}),
      ...(telemetry.exporters.includes('prometheus') ? { metrics: telemetry } : {}),
    });
    const addresses = await server.start().catch((err: unknown) => {
      throw explainBindError(err, [
        { port: config.server.port, flag: '--port', kind: 'zmq' },
        { port: config.server.httpPort, flag: '--http-port', kind: 'http' },
      ]);
    });
    cleanup.unshift(() => server.shutdown());
    // After the bind, so the default instance id carries the real port (never `:0`). Keys stored
    // meanwhile are not missed: attaching lists what L1 already holds.
    const worker = config.controller.url ? await attachWorkerClient(storage, config, server.instanceId, warn) : undefined;
    if (worker) cleanup.unshift(() => worker.close());
    const vllmEvents = config.vllmEvents.port !== undefined ? await startVllmEvents(storage, config) : undefined;
    if (vllmEvents) {
      cleanup.unshift(() => vllmEvents.close());
      log(`tierkv server: vLLM KV events on ${vllmEvents.endpoint}${vllmEvents.replayEndpoint ? `, replay ${vllmEvents.replayEndpoint}` : ''}`);
    }
    log(`tierkv server: serving ${addresses.endpoint}`);
    if (addresses.httpUrl) log(`tierkv server: http ${addresses.httpUrl}/healthz ${addresses.httpUrl}/status ${addresses.httpUrl}/metrics`);
    if (telemetry.prometheusUrl) log(`tierkv server: prometheus ${telemetry.prometheusUrl}`);
    const tiers = storage.usage();
    const l2 = tiers.l2.map((t) => `${t.adapter}${t.capacityBytes !== undefined ? ` (${formatSize(t.capacityBytes)})` : ''}`).join(', ');
    log(`tierkv server: L1 ${formatSize(tiers.l1.capacityBytes)}; L2 ${l2 || 'none'}${worker ? `; reporting to controller ${config.controller.url}` : ''}`);
    let closing: Promise<void> | undefined;
    const unflushed = (): number => {
      try {
        return storage.usage().storeQueueKeys ?? 0;
      } catch {
        return 0; // closed: everything was flushed
      }
    };
    return {
      server,
      storage,
      addresses,
      telemetry,
      worker,
      vllmEvents,
      forcedExit: () => {
        const n = unflushed();
        return n > 0 ? `${n} acknowledged stores were not flushed to L2 and are lost` : undefined;
      },
      close: () =>
        (closing ??= (async () => {
          // server.shutdown drains requests and closes the StorageManager, which flushes L2 stores.
          // No deadline: exiting mid-flush would lose acknowledged stores. Every L2 call has its
          // own deadline, so the flush ends; meanwhile say what is left (a second signal exits now).
          await whileReporting(server.shutdown(), 10_000, () => {
            log(`tierkv server: shutting down, still flushing ${unflushed()} acknowledged stores to L2 (send the signal again to exit now, losing them)`);
          }).catch((err: unknown) => log(`tierkv server: ${(err as Error).message}`));
          if (worker) await withTimeout('controller worker client close', 5_000, worker.close()).catch(() => undefined);
          if (vllmEvents) await withTimeout('vLLM event publisher close', 5_000, vllmEvents.close()).catch(() => undefined);
          await stackTelemetry.finish();
        })()),
    };
  } catch (err) {
    for (const step of cleanup) await step().catch(() => undefined);
    throw err;
  }
}

/** The Redis L2 adapter's options, when a URL or cluster nodes are configured. */
function redisOptionsOf(redis: ServerConfig['l2']['redis']): RedisL2Options | undefined {
  const { url, cluster, ...rest } = redis;
  if (url === undefined && cluster === undefined) return undefined;
  // Unset settings stay absent so the adapter's defaults apply.
  const tuning = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as Partial<typeof rest>;
  return { ...tuning, ...(cluster ? { cluster: { nodes: cluster } } : { url: url! }) } as RedisL2Options;
}

/**
 * Reports the storage's chunks to the controller. Registration is retried by the worker client's
 * heartbeat loop, so a controller that starts later (or restarts) still gets a full sync.
 */
async function attachWorkerClient(storage: StorageManager, config: ServerConfig, defaultInstanceId: string, warn: (line: string) => void): Promise<WorkerClient> {
  const router = config.controller.url!;
  const worker = new WorkerClient({
    // Without --controller-pull-url the controller's register reply says where to push events.
    controller: { router, ...(config.controller.pullUrl ? { pull: config.controller.pullUrl } : {}) },
    instanceId: config.controller.instanceId ?? defaultInstanceId,
    workerId: config.controller.workerId ?? 0,
    ...(config.controller.authToken !== undefined ? { authToken: config.controller.authToken } : {}),
    warn,
  });
  await worker.start(storage);
  return worker;
}

/** Publishes the storage's chunks as vLLM KV events (each chunk one block of --chunk-size tokens). */
async function startVllmEvents(storage: StorageManager, config: ServerConfig): Promise<VllmEventPublisher> {
  const v = config.vllmEvents;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const publisher = new VllmEventPublisher({
    endpoint: `tcp://${host}:${v.port!}`,
    ...(v.replayPort !== undefined ? { replayEndpoint: `tcp://${host}:${v.replayPort}` } : {}),
    ...(v.topic !== undefined ? { topic: v.topic } : {}),
    blockSize: config.chunkSize,
  });
  await publisher.start(storage).catch((err: unknown) => {
    throw explainBindError(err, [
      { port: v.port!, flag: '--vllm-events-port', kind: 'zmq' },
      ...(v.replayPort !== undefined ? [{ port: v.replayPort, flag: '--vllm-replay-port', kind: 'zmq' as const }] : []),
    ]);
  });
  return publisher;
}

/** `--per-model-attributes` (and its limit) as the server and storage option; undefined when off. */
function perModelAttributesOf(server: ServerConfig['server']): PerModelAttributesOption | undefined {
  if (!server.perModelAttributes) return undefined;
  return server.perModelAttributesLimit !== undefined ? { limit: server.perModelAttributesLimit } : true;
}
