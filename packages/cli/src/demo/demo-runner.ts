import { rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ControllerClient, type CacheController } from '@tierkv/controller';
import { TierkvClient } from '@tierkv/server';
import type { StorageManager } from '@tierkv/storage';
import type { DemoConfig } from '../config/demo-config.js';
import type { ServerConfig } from '../config/server-config.js';
import { startCliTelemetry } from '../runtime/cli-telemetry.js';
import { startControllerStack, type RunningControllerStack } from '../runtime/controller-stack.js';
import { startServerStack, type RunningServerStack } from '../runtime/server-stack.js';
import { waitForShutdownSignal } from '../runtime/shutdown-signal.js';
import { withTimeout } from '../runtime/step-timeout.js';
import { runClientLoop } from './client-loop.js';
import { demoLayout } from './demo-layout.js';
import { DemoStats } from './demo-stats.js';
import { count, formatSize } from './format.js';
import { ProgressReporter } from './progress.js';
import { renderSummary } from './summary.js';
import { PrefixRouter } from './prefix-router.js';
import { ScoreRouter } from './score-router.js';
import { InferenceWorkload } from './workload.js';

/** The model name of the demo's keys and of its vLLM publishers (InferenceWorkload's default). */
const DEMO_MODEL = 'tierkv-demo';

/** The vLLM publisher name of demo server `i` (the KV pool's instance `vllm:<name>`). */
function vllmPublisherName(i: number): string {
  return `demo-s${i}`;
}

/** How long the summary waits for the controller to catch up with L1 before showing both counts anyway. */
const CONVERGE_TIMEOUT_MS = 15_000;

export interface DemoIo {
  readonly out: NodeJS.WriteStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * `tierkv demo`: telemetry (Prometheus on 127.0.0.1:9464, OTLP per OTEL_*), the cache controller,
 * the storage server with L1 + filesystem L2 on loopback, then `clients` TierkvClients running the
 * synthetic inference workload for `duration` seconds (or until Ctrl-C), then a clean shutdown
 * and the summary. Resolves with the exit code.
 */
export async function runDemo(config: DemoConfig, io: DemoIo = { out: process.stdout, env: process.env }): Promise<number> {
  const out = (line: string) => io.out.write(`${line}\n`);
  const notes: string[] = [];
  // Listen from the start: Ctrl-C during startup still shuts down what was started.
  const abort = new AbortController();
  void waitForShutdownSignal({ abort: abort.signal }).then((s) => {
    if (s !== 'abort') {
      notes.push(`stopped early by ${s}`);
      abort.abort();
    }
  });
  const dataDir = resolve(config.dataDir);
  const serverCount = config.servers ?? (config.vllm ? 2 : 1);
  // Not `l2`: that is `tierkv server`'s default directory, and one directory serves one adapter:
  // server 0 keeps demo-l2, server i > 0 demo-l2-<i>.
  const l2Dirs = Array.from({ length: serverCount }, (_, i) => join(dataDir, i === 0 ? 'demo-l2' : `demo-l2-${i}`));
  const l2Dir = l2Dirs[0]!;
  const l2DirText = serverCount === 1 ? l2Dir : `${l2Dir}, ${serverCount - 1} more beside it`;
  if (config.fresh) for (const d of l2Dirs) await rm(d, { recursive: true, force: true });
  // --clean: the L2 files (up to the fs budget) go once the server has closed them; the data dir
  // too if nothing else (such as `tierkv server`'s own L2) lives there.
  const clean = async () => {
    if (!config.clean) return;
    for (const d of l2Dirs) await rm(d, { recursive: true, force: true });
    await rmdir(dataDir).catch(() => undefined);
  };

  const telemetry = await startCliTelemetry({
    exporters: config.metrics.exporters,
    serviceName: 'tierkv-demo',
    prometheus: { host: config.metrics.host, port: config.metrics.port },
    defaultExportIntervalMillis: 5_000,
    env: io.env,
  });
  const closers: { what: string; close: () => Promise<unknown> }[] = [{ what: 'telemetry', close: () => telemetry.shutdown() }];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      await withTimeout(c.what, 20_000, c.close()).catch((err: unknown) => notes.push(`${c.what}: ${(err as Error).message}`));
    }
  };

  try {
    let controller: RunningControllerStack | undefined;
    if (config.controller.enabled) {
      controller = await startControllerStack(
        { host: '127.0.0.1', pullPort: 0, routerPort: 0, httpHost: '127.0.0.1', httpPort: 0, chunkSize: config.chunkTokens, metrics: {} },
        { telemetry, env: io.env },
      );
      closers.push({ what: 'controller', close: () => controller!.close() });
    }
    const serverConfig = (l2Path: string): ServerConfig => ({
      l1: { size: config.l1.size, eviction: config.l1.eviction, watermark: 0.8, evictionRatio: 0.1 },
      chunkSize: config.chunkTokens,
      l2: { fs: { enabled: true, path: l2Path, budget: config.l2.fsBudget }, redis: { url: config.l2.redisUrl } },
      // Free loopback ports: a demo must not collide with a real server on the default ports.
      server: { transport: 'zeromq', host: '127.0.0.1', port: 0, httpHost: '127.0.0.1', httpPort: 0, durability: 'memory' },
      metrics: {},
      // The router URL alone: the controller's register reply says where to push events. The
      // instance id is the default, tierkv-server@<hostname>:<bound port>.
      controller: controller ? { url: controller.addresses.router, workerId: 0 } : {},
      // --vllm: the server's holdings as vLLM KV events too, on free ports, with replay.
      vllmEvents: config.vllm ? { port: 0, replayPort: 0 } : {},
    });
    // Worker warnings (events or syncs not reaching the controller) go under the summary.
    const warn = (line: string) => void (notes.length < 20 && notes.push(line));
    const stacks: RunningServerStack[] = [];
    for (const dir of l2Dirs) {
      const s = await startServerStack(serverConfig(dir), { telemetry, env: io.env, warn });
      stacks.push(s);
      closers.push({ what: stacks.length === 1 ? 'server' : `server ${stacks.length - 1}`, close: () => s.close() });
    }
    // The names a route can come back with: each server's instance id (lookups), its vLLM publisher
    // name and the KV pool's vllm:<name> (scores).
    const serverIndex = new Map<string, number>();
    stacks.forEach((s, i) => {
      const id = s.worker?.options.instanceId;
      if (id) serverIndex.set(id, i);
      serverIndex.set(vllmPublisherName(i), i);
      serverIndex.set(`vllm:${vllmPublisherName(i)}`, i);
    });
    // --vllm: the controller follows every server's publisher, as it would follow vLLM engines.
    if (config.vllm && controller) {
      for (const [i, s] of stacks.entries()) {
        controller.controller.vllm.add({
          name: vllmPublisherName(i),
          endpoint: s.vllmEvents!.endpoint!,
          replayEndpoint: s.vllmEvents!.replayEndpoint!,
          model: DEMO_MODEL,
          blockSize: config.chunkTokens,
        });
      }
    }

    const layout = demoLayout(config.chunkTokens, config.chunkBytes);
    // One TierkvClient per (client, server): a request goes to the server its route names.
    const clients = Array.from({ length: config.clients }, () => stacks.map((s) => new TierkvClient({ endpoint: s.addresses.endpoint, layout, timeoutMs: 30_000 })));
    const controllerClient = () => new ControllerClient({ router: controller!.addresses.router, timeoutMs: 5_000 });
    const routers = controller ? clients.map(() => new PrefixRouter(controllerClient())) : [];
    const scorers = controller && config.vllm ? clients.map(() => new ScoreRouter(controllerClient(), DEMO_MODEL)) : [];
    closers.push({ what: 'clients', close: async () => [...clients.flat(), ...routers, ...scorers].forEach((c) => c.close()) });
    await Promise.all(clients.flat().map((c) => c.ping({ timeoutMs: 10_000 })));
    if (abort.signal.aborted) {
      await closeAll();
      out(`tierkv demo: ${notes.join('; ')} before the workload started`);
      return 0;
    }

    const endpoints: { name: string; url: string }[] = [];
    if (telemetry.prometheusUrl) endpoints.push({ name: 'metrics (Prometheus)', url: telemetry.prometheusUrl });
    if (telemetry.exporters.includes('otlp')) endpoints.push({ name: 'metrics (OTLP push)', url: telemetry.config.otlp.endpoint });
    for (const [i, s] of stacks.entries()) {
      const suffix = stacks.length === 1 ? '' : ` s${i}`;
      if (s.addresses.httpUrl) {
        endpoints.push({ name: `server status${suffix}`, url: `${s.addresses.httpUrl}/status` });
        if (telemetry.exporters.includes('prometheus')) endpoints.push({ name: `server metrics${suffix}`, url: `${s.addresses.httpUrl}/metrics` });
      }
      endpoints.push({ name: `server (ZeroMQ)${suffix}`, url: s.addresses.endpoint });
      if (s.vllmEvents?.endpoint) endpoints.push({ name: `vLLM KV events${suffix}`, url: `${s.vllmEvents.endpoint} (replay ${s.vllmEvents.replayEndpoint ?? 'off'})` });
    }
    if (telemetry.exporters.length === 0) notes.push('metrics export was off (OTEL_SDK_DISABLED, OTEL_METRICS_EXPORTER=none or --metrics-exporter none)');
    if (controller?.addresses.http) endpoints.push({ name: 'controller workers', url: `${controller.addresses.http}/workers` });
    if (controller?.addresses.http && config.vllm) endpoints.push({ name: 'controller vLLM view', url: `${controller.addresses.http}/vllm/publishers` });

    out(
      `tierkv demo: ${config.clients} client${config.clients === 1 ? '' : 's'} for ${config.duration} s (seed ${config.seed}); ` +
        `${stacks.length > 1 ? `${stacks.length} servers, each ` : ''}L1 ${formatSize(config.l1.size)}, fs L2 ${l2DirText} (budget ${formatSize(config.l2.fsBudget)})${config.l2.redisUrl ? `, redis L2 ${config.l2.redisUrl}` : ''}; ` +
        `chunks of ${config.chunkTokens} tokens, ${formatSize(layout.byteSize)} (${layout.toString()})`,
    );
    if (config.vllm) {
      out(
        `  --vllm: each server publishes its chunks as vLLM KV events (blocks of ${config.chunkTokens} tokens), the controller follows them, ` +
          'and each request goes to the server with the best score for its chunk hashes',
      );
    }
    for (const e of endpoints) out(`  ${e.name.padEnd(22)} ${e.url}`);

    const stats = new DemoStats();
    const usageText = () =>
      stacks
        .map((s, i) => {
          const u = s.storage.usage();
          const l2 = u.l2.map((t) => `${t.adapter} ${formatSize(t.usedBytes)}`).join(' ');
          return `${stacks.length > 1 ? `s${i} ` : ''}L1 ${formatSize(u.l1.usedBytes)}/${formatSize(u.l1.capacityBytes)} ${l2}`;
        })
        .join(' | ');
    const progress = new ProgressReporter(stats, { stream: io.out, durationS: config.duration, extra: usageText });
    progress.start();
    const deadline = performance.now() + config.duration * 1000;
    await Promise.all(
      clients.map((perServer, i) =>
        runClientLoop({
          clients: perServer,
          home: i % perServer.length,
          serverOf: (name) => serverIndex.get(name),
          workload: new InferenceWorkload(i, { seed: config.seed, chunkTokens: config.chunkTokens, sessionsPerClient: config.sessions }),
          layout,
          stats,
          deadline,
          signal: abort.signal,
          ...(routers[i] ? { router: routers[i] } : {}),
          ...(scorers[i] ? { scorer: scorers[i] } : {}),
        }),
      ),
    );
    const elapsedS = (performance.now() - stats.startedAt) / 1000;
    progress.stop();

    const tiers: { label: string; value: string }[] = [];
    for (const [i, s] of stacks.entries()) {
      const suffix = stacks.length === 1 ? '' : ` s${i}`;
      // The controller's view first: L1 is quiet now, and its usage row is read after the wait.
      const instanceId = s.worker?.options.instanceId;
      let view: Awaited<ReturnType<typeof controllerView>> | undefined;
      if (controller && s.worker && instanceId) {
        await s.worker.flush().catch(() => undefined);
        view = await controllerView(controller.controller, s.storage, instanceId, abort.signal);
      }
      const usage = s.storage.usage();
      tiers.push({ label: `L1 usage${suffix}`, value: `${formatSize(usage.l1.usedBytes)} of ${formatSize(usage.l1.capacityBytes)}, ${usage.l1.objects} chunks` });
      for (const t of usage.l2) {
        tiers.push({
          label: `L2 ${t.adapter} usage${suffix}`,
          value: `${formatSize(t.usedBytes)}${t.capacityBytes !== undefined ? ` of ${formatSize(t.capacityBytes)}` : ''}, ${t.objects} chunks`,
        });
      }
      if (view && instanceId) {
        tiers.push({
          label: `controller${suffix}`,
          value: `${view.tracked} chunks tracked (L1 holds ${view.l1})${view.converged ? '' : `, not caught up after ${CONVERGE_TIMEOUT_MS / 1000} s`}`,
        });
        tiers.push({ label: `instance id${suffix}`, value: instanceId });
      }
      const vllm = controller && config.vllm ? controller.controller.vllm.list().find((p) => p.name === vllmPublisherName(i)) : undefined;
      if (vllm && s.vllmEvents) {
        const st = vllm.stats;
        const media = Object.entries(vllm.blocks).map(([m, n]) => `${m} ${count(n)}`).join(', ') || 'none';
        tiers.push({
          label: `vLLM view${suffix}`,
          value:
            `${count(s.vllmEvents.stats.batches)} batches published, ${count(st.events.BlockStored + st.events.BlockRemoved)} events ingested; ` +
            `blocks ${media}; ${count(st.seqGaps)} seq gaps, ${count(st.replays.ok + st.replays.partial + st.replays.failed)} replays`,
        });
      }
    }
    if (!controller) notes.push('ran without the cache controller (--no-controller)');
    await closeAll();
    if (config.clean) {
      await clean();
      notes.push(`--clean: removed ${l2DirText}`);
    } else {
      notes.push(`the demo's L2 files stay in ${l2Dir} (up to ${formatSize(config.l2.fsBudget)}) for a warm rerun; --clean removes them after a run, --fresh before`);
    }
    io.out.write(
      renderSummary({ stats, elapsedS, clients: config.clients, seed: config.seed, chunkBytes: layout.byteSize, tiers, endpoints, notes }),
    );
    // Failure: a byte that did not match, a request that failed after its BUSY retries, or no
    // request succeeded in a run nobody interrupted.
    if (stats.verifyFailures > 0 || stats.failedRequests > 0) return 1;
    return stats.requests > 0 || abort.signal.aborted ? 0 : 1;
  } finally {
    abort.abort();
    await closeAll();
    await clean().catch(() => undefined);
  }
}

/**
 * The controller's count of this worker's L1 chunks once it has caught up with L1 (events still
 * in flight, or a full sync under way, make it lag): waits, bounded, until the two agree.
 */
async function controllerView(controller: CacheController, storage: StorageManager, instanceId: string, signal: AbortSignal): Promise<{ tracked: number; l1: number; converged: boolean }> {
  const read = () => {
    const w = controller.workers().find((x) => x.instanceId === instanceId);
    return { tracked: w?.keysByLocation['l1'] ?? 0, l1: storage.l1Keys().length };
  };
  const deadline = performance.now() + CONVERGE_TIMEOUT_MS;
  for (;;) {
    const v = read();
    if (v.tracked === v.l1) return { ...v, converged: true };
    if (performance.now() > deadline || signal.aborted) return { ...v, converged: false };
    await new Promise((r) => setTimeout(r, 50));
  }
}
