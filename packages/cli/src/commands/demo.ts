import type { Command } from 'commander';
import type { CommandResult } from '../cli.js';
import { DEFAULT_DEMO_CONFIG, DEMO_CONFIG_FIELDS, demoConfigSchema, type DemoConfig } from '../config/demo-config.js';
import { addConfigOptions, resolveCommandConfig } from './config-options.js';

export function resolveDemoCommandConfig(command: Command, env: Readonly<Record<string, string | undefined>> = process.env): DemoConfig {
  return resolveCommandConfig(command, { schema: demoConfigSchema, fields: DEMO_CONFIG_FIELDS, defaults: DEFAULT_DEMO_CONFIG }, env);
}

export function registerDemoCommand(program: Command, result: CommandResult): Command {
  const command = program
    .command('demo')
    .description('run everything in one process (controller, server, L1 + filesystem L2, Prometheus) under a synthetic inference workload');
  addConfigOptions(command, DEMO_CONFIG_FIELDS);
  command.addHelpText(
    'after',
    `
The workload: sessions that share system prompts and grow their conversations turn by turn. Each
request asks the controller which worker holds the longest prefix (as a router would), looks up its
prompt's chunks (and prefetches them from L2), retrieves the hits, and stores the new chunks,
through real TierkvClients over loopback ZeroMQ; BUSY replies are retried with backoff. The L2
files stay in <data-dir>/demo-l2 (up to --fs-budget, 1GiB): --fresh deletes them before the run,
--clean after it. Metrics: Prometheus on
http://127.0.0.1:9464/metrics; OTLP too when OTEL_EXPORTER_OTLP_ENDPOINT is set
(OTEL_METRICS_EXPORTER=prometheus,otlp exports both ways). Ctrl-C ends the run early with a summary.

--vllm: two servers (--servers) also publish their chunks as vLLM KV events, the controller follows
them as vLLM publishers, and each request goes to the best-scored server (the controller's score
for the request's chunk hashes); the summary adds a "routed by score" row (docs/vllm.md#try-it).`,
  );
  command.action(async (_opts: unknown, cmd: Command) => {
    const config = resolveDemoCommandConfig(cmd);
    const { runDemo } = await import('../demo/demo-runner.js');
    result.code = await runDemo(config);
  });
  return command;
}
