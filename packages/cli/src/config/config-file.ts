import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@tierkv/core';

export interface LoadedConfigFile {
  /** Absolute path, for messages. */
  readonly path: string;
  /** The parsed document: a plain object. */
  readonly data: Record<string, unknown>;
}

/**
 * Reads a JSON (`.json`) or YAML (anything else; JSON is valid YAML too) config file. A missing
 * file, a syntax error or a document that is not a mapping is a ConfigError naming the file.
 */
export function loadConfigFile(path: string, field = '--config'): LoadedConfigFile {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(field, `cannot read config file ${absolute}: ${reason}`);
  }
  let data: unknown;
  try {
    data = extname(absolute).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(field, `config file ${absolute} is not valid ${extname(absolute).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(field, `config file ${absolute} must contain a mapping of settings (e.g. "l1:\\n  size: 4GiB"), got ${Array.isArray(data) ? 'a list' : typeof data}`);
  }
  return { path: absolute, data: data as Record<string, unknown> };
}
