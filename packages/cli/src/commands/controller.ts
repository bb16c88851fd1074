import type { Command } from 'commander';
import type { CommandResult } from '../cli.js';
import { CONTROLLER_CONFIG_FIELDS, DEFAULT_CONTROLLER_CONFIG, controllerConfigSchema, type ControllerConfig } from '../config/controller-config.js';
import { resolveConfig } from '../config/resolve-config.js';
import { loadConfigFile } from '../config/config-file.js';
import { waitForShutdownSignal } from '../runtime/shutdown-signal.js';
import { addConfigOptions, flagValues } from './config-options.js';

export function resolveControllerCommandConfig(command: Command, env: Readonly<Record<string, string | undefined>> = process.env): ControllerConfig {
  const configPath = (command.opts().config as string | undefined) ?? env.TIERKV_CONTROLLER_CONFIG;
  const file = configPath ? loadConfigFile(configPath, command.opts().config ? '--config' : 'TIERKV_CONTROLLER_CONFIG') : undefined;
  return resolveConfig(controllerConfigSchema, CONTROLLER_CONFIG_FIELDS, {
    defaults: DEFAULT_CONTROLLER_CONFIG,
    ...(file ? { file } : {}),
    env,
    flags: flagValues(command, CONTROLLER_CONFIG_FIELDS),
  });
}

export function registerControllerCommand(program: Command, result: CommandResult): Command {
  const command = program
    .command('controller')
    .description('run the tierkv cache controller: which worker holds which chunk, prefix lookups, HTTP API')
    .option('-c, --config <file>', 'JSON or YAML config file [env TIERKV_CONTROLLER_CONFIG]')
    .option('--print-config', 'print the resolved configuration as JSON and exit');
  addConfigOptions(command, CONTROLLER_CONFIG_FIELDS);
  command.addHelpText('after', '\nPrecedence: flags > TIERKV_CONTROLLER_* environment > --config file > defaults. SIGTERM/SIGINT stop it cleanly (exit 0).');
  command.action(async (_opts: unknown, cmd: Command) => {
    const config = resolveControllerCommandConfig(cmd);
    if (cmd.opts().printConfig) {
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      return;
    }
    // Listening before startup: a signal while starting still ends in a clean shutdown.
    const signalled = waitForShutdownSignal();
    const { startControllerStack } = await import('../runtime/controller-stack.js');
    const stack = await startControllerStack(config, { log: (line) => process.stdout.write(`${line}\n`) });
    const signal = await signalled;
    process.stdout.write(`tierkv controller: ${signal === 'abort' ? 'stopping' : `${signal} received`}, shutting down\n`);
    await stack.close();
    process.stdout.write('tierkv controller: stopped\n');
    result.code = 0;
  });
  return command;
}
