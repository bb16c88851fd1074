import type { Command } from 'commander';
import type { CommandResult } from '../cli.js';
import { DEFAULT_SERVER_CONFIG, SERVER_CONFIG_FIELDS, serverConfigSchema, type ServerConfig } from '../config/server-config.js';
import { addServiceOptions, resolveCommandConfig, type CommandConfigSpec } from './config-options.js';
import { runService } from './service-action.js';

/** Resolves `tierkv server`'s configuration: flags > TIERKV_* env > --config file > defaults. */
const SERVER_COMMAND: CommandConfigSpec<typeof serverConfigSchema> = {
  schema: serverConfigSchema,
  fields: SERVER_CONFIG_FIELDS,
  defaults: DEFAULT_SERVER_CONFIG,
  configEnv: 'TIERKV_CONFIG',
};

export function resolveServerCommandConfig(command: Command, env: Readonly<Record<string, string | undefined>> = process.env): ServerConfig {
  return resolveCommandConfig(command, SERVER_COMMAND, env);
}

export function registerServerCommand(program: Command, result: CommandResult): Command {
  const command = program
    .command('server')
    .description('run the tierkv storage server: L1 memory + L2 tiers, served to TierkvClients over ZeroMQ');
  addServiceOptions(command, SERVER_COMMAND, 'JSON or YAML config file (same shape as the settings; see docs/cli.md)');
  command.addHelpText(
    'after',
    `
Precedence: flags > TIERKV_* environment > --config file > defaults. Sizes take B, KiB, MiB, GiB,
TiB (×1024) or KB, MB, GB, TB (×1000). Metrics also follow OTEL_* variables (OTEL_METRICS_EXPORTER,
OTEL_EXPORTER_OTLP_ENDPOINT, ...). SIGTERM/SIGINT drain requests, flush L2 and export metrics, exit 0.`,
  );
  command.action(async (_opts: unknown, cmd: Command) => {
    await runService(cmd, 'tierkv server', resolveServerCommandConfig(cmd), async (config) => {
      // Loaded on demand: --help and config errors stay fast without zeromq and the SDK.
      const { startServerStack } = await import('../runtime/server-stack.js');
      return startServerStack(config, {
        log: (line) => process.stdout.write(`${line}\n`),
        warn: (line) => process.stderr.write(`${line}\n`),
      });
    });
    result.code = 0;
  });
  return command;
}
