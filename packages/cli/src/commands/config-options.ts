import { Option, type Command } from 'commander';
import type { ConfigField } from '../config/config-field.js';

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
