import type { Command } from 'commander';
import type { CommandResult } from '../cli.js';
import { CONTROLLER_CONFIG_FIELDS, DEFAULT_CONTROLLER_CONFIG, controllerConfigSchema, type ControllerConfig } from '../config/controller-config.js';
import { addServiceOptions, resolveCommandConfig, type CommandConfigSpec } from './config-options.js';
import { runService } from './service-action.js';

const CONTROLLER_COMMAND: CommandConfigSpec<typeof controllerConfigSchema> = {
  schema: controllerConfigSchema,
  fields: CONTROLLER_CONFIG_FIELDS,
  defaults: DEFAULT_CONTROLLER_CONFIG,
  configEnv: 'TIERKV_CONTROLLER_CONFIG',
};

export function resolveControllerCommandConfig(command: Command, env: Readonly<Record<string, string | undefined>> = process.env): ControllerConfig {
  return resolveCommandConfig(command, CONTROLLER_COMMAND, env);
}

export function registerControllerCommand(program: Command, result: CommandResult): Command {
  const command = program
    .command('controller')
    .description('run the tierkv cache controller: which worker holds which chunk, prefix lookups, HTTP API');
  addServiceOptions(command, CONTROLLER_COMMAND, 'JSON or YAML config file');
  command.addHelpText('after', '\nPrecedence: flags > TIERKV_CONTROLLER_* environment > --config file > defaults. SIGTERM/SIGINT stop it cleanly (exit 0).');
  command.action(async (_opts: unknown, cmd: Command) => {
    await runService(cmd, 'tierkv controller', resolveControllerCommandConfig(cmd), async (config) => {
      const { startControllerStack } = await import('../runtime/controller-stack.js');
      return startControllerStack(config, { log: (line) => process.stdout.write(`${line}\n`) });
    });
    result.code = 0;
  });
  return command;
}
