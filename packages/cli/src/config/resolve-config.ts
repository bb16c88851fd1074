import { z } from 'zod';
import { ConfigError } from '@tierkv/core';
import { longFlag, type ConfigField } from './config-field.js';
import type { LoadedConfigFile } from './config-file.js';

export interface ConfigSources {
  /** The lowest layer: the command's defaults, as a nested object. */
  readonly defaults: Record<string, unknown>;
  /** The config file, if one was given. */
  readonly file?: LoadedConfigFile;
  /** Environment (normally `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values given on the command line, by config path (`l1.size` → `'4GiB'`). */
  readonly flags?: Readonly<Record<string, unknown>>;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Plain, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isPlain(node[part])) node[part] = {};
    node = node[part] as Plain;
  }
  node[parts[parts.length - 1]!] = value;
}

// Names that reach an object's prototype when assigned: a config file naming one must never
// write into Object.prototype (prototype pollution), so it is refused.
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deep-merges `source` into `target`, recording `label(path)` as the origin of every leaf. */
function mergeInto(target: Plain, source: Plain, origins: Map<string, string>, label: (path: string) => string, prefix = ''): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (RESERVED_KEYS.has(key)) throw new ConfigError(label(path), `"${key}" is not a setting (a reserved name); remove it`);
    if (isPlain(value)) {
      if (!isPlain(target[key])) target[key] = {};
      mergeInto(target[key] as Plain, value, origins, label, path);
    } else {
      target[key] = value;
      origins.set(path, label(path));
    }
  }
}

function clone(value: Plain): Plain {
  return structuredClone(value);
}

/** The keys an object schema accepts at `path` (for "unknown field" messages). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const part of path) {
    node = unwrap(node);
    if (!(node instanceof z.ZodObject)) return [];
    node = (node.shape as Record<string, unknown>)[String(part)];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(node: unknown): unknown {
  let current = node;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodNullable) {
    current = current.unwrap();
  }
  return current;
}

/**
 * Layers defaults < config file < environment < flags, validates the result with `schema`, and
 * returns it. On invalid input throws one ConfigError whose message names every bad field as the
 * user wrote it (`--l1-size`, `TIERKV_EVICTION`, `l1.eviction in /etc/tierkv.yaml`) and the
 * allowed values. This is the only place command configuration is validated.
 */
export function resolveConfig<S extends z.ZodType>(schema: S, fields: readonly ConfigField[], sources: ConfigSources): z.output<S> {
  const merged = clone(sources.defaults);
  const origins = new Map<string, string>();
  if (sources.file) {
    const file = sources.file;
    mergeInto(merged, file.data, origins, (path) => `${path} (in ${file.path})`);
  }
  const env = sources.env ?? {};
  for (const field of fields) {
    const value = field.env === undefined ? undefined : env[field.env];
    if (value !== undefined && value !== '') {
      setPath(merged, field.path, value);
      origins.set(field.path, field.env!);
    }
  }
  const flags = sources.flags ?? {};
  for (const field of fields) {
    if (flags[field.path] !== undefined) {
      setPath(merged, field.path, flags[field.path]);
      origins.set(field.path, longFlag(field));
    }
  }
  const result = schema.safeParse(merged);
  if (result.success) return result.data;

  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(schema, issue.path);
      const where = sources.file ? ` in ${sources.file.path}` : '';
      const names = issue.keys.map((k) => (path ? `${path}.${k}` : k));
      return {
        field: names.join(', '),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''}${where}; allowed fields${path ? ` of ${path}` : ''}: ${allowed.join(', ')}`,
      };
    }
    const origin = origins.get(path) ?? path;
    const message = issue.code === 'invalid_type' && issue.expected === 'object'
      ? `expected a mapping of settings (fields: ${keysAt(schema, issue.path).join(', ')})`
      : issue.message;
    return { field: origin, message };
  });
  const first = problems[0]!;
  const rest = problems.slice(1).map((p) => `\n  ${p.field}: ${p.message}`).join('');
  throw new ConfigError(first.field, `${first.message}${rest}`);
}
