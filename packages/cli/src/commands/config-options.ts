import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { ConfigField } from '../config/config-field.js';
import { loadConfigFile } from '../config/config-file.js';
import { resolveConfig } from '../config/resolve-config.js';

/** Adds one commander option per field, with its environment variable in the help text. */
export function addConfigOptions(command: Command, fields: readonly ConfigField[]): Command {
  for (const field of fields) {
    const env = field.env ? ` [env ${field.env}]` : '';
    command.addOption(new Option(field.flags, `${field.description}${env}`));
  }
  return command;
}

/**
 * The values the user typed on the command line, by config path. Options left at commander's
 * implicit defaults (e.g. `--no-fs` makes `fs` default to true) are left out, so lower layers
 * (env, config file, defaults) decide them.
 */
export function flagValues(command: Command, fields: readonly ConfigField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const byFlag = new Map(command.options.map((o) => [o.flags, o]));
  const values = command.opts();
  for (const field of fields) {
    const option = byFlag.get(field.flags);
    if (!option) continue;
    const name = option.attributeName();
    if (command.getOptionValueSource(name) === 'cli') out[field.path] = values[name];
  }
  return out;
}

/** What a command's configuration is made of. */
export interface CommandConfigSpec<S extends z.ZodType> {
  readonly schema: S;
  readonly fields: readonly ConfigField[];
  readonly defaults: Record<string, unknown>;
  /** The environment variable naming a config file when `--config` is absent (commands with `--config`). */
  readonly configEnv?: string;
}

/** Resolves a command's configuration: flags > TIERKV_* env > `--config` file (or `spec.configEnv`) > defaults. */
export function resolveCommandConfig<S extends z.ZodType>(
  command: Command,
  spec: CommandConfigSpec<S>,
  env: Readonly<Record<string, string | undefined>>,
): z.output<S> {
  const flag = command.opts().config as string | undefined;
  const configPath = flag ?? (spec.configEnv !== undefined ? env[spec.configEnv] : undefined);
  const file = configPath ? loadConfigFile(configPath, flag ? '--config' : spec.configEnv) : undefined;
  return resolveConfig(spec.schema, spec.fields, {
    defaults: spec.defaults,
    ...(file ? { file } : {}),
    env,
    flags: flagValues(command, spec.fields),
  });
}

/** A long-running command's options: `-c, --config` (naming `spec.configEnv`), `--print-config`, then one per field. */
export function addServiceOptions<S extends z.ZodType>(command: Command, spec: CommandConfigSpec<S>, configHelp: string): Command {
  command
    .option('-c, --config <file>', `${configHelp}${spec.configEnv ? ` [env ${spec.configEnv}]` : ''}`)
    .option('--print-config', 'print the resolved configuration as JSON and exit');
  return addConfigOptions(command, spec.fields);
}
