import { ConfigError } from '@tierkv/core';

/**
 * Parsers for single `OTEL_*` values, following the SDK environment-variable spec: an empty value
 * is unset; booleans, numbers and enums that cannot be parsed are warned about and ignored (the
 * default applies). Formats the spec leaves open (URLs, header lists) are ConfigErrors.
 */

export type Env = Readonly<Record<string, string | undefined>>;
export type Warn = (message: string) => void;

export function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

/** The one warning format: variable, value, why, and what is used instead. */
export function fallbackWarning(name: string, value: string, why: string, instead: string): string {
  return `warning: ${name}="${value}" ${why}; using ${instead} instead`;
}

/** The first of `names` that is set (signal-specific before generic), with its value. */
export function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = read(env, name);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

/**
 * An enum value, case-insensitive. An unknown value is warned about and ignored (the spec: "MUST
 * generate a warning and gracefully ignore the setting"), so the default applies.
 */
export function enumValue<T extends string>(name: string, value: string, allowed: readonly T[], fallback: string, warn: Warn): T | undefined {
  const v = value.toLowerCase();
  if ((allowed as readonly string[]).includes(v)) return v as T;
  warn(fallbackWarning(name, value, `is not one of ${allowed.join(', ')}`, fallback));
  return undefined;
}

/**
 * The SDK spec's boolean: only `true` (any case) is true; anything else is false, and a value other
 * than `false` is warned about rather than refused.
 */
export function boolean(env: Env, name: string, warn: Warn): boolean | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v !== 'true' && v !== 'false') warn(fallbackWarning(name, value, 'is not true or false', 'false'));
  return v === 'true';
}

/**
 * A whole number of milliseconds, > 0 (≥ 0 where 0 means no limit). Anything else is warned about
 * and ignored (the spec's rule for numbers), so the default `fallback` applies.
 */
export function millis(env: Env, name: string, fallback: string, warn: Warn, zeroAllowed = false): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || (!zeroAllowed && Number(value) <= 0) || !Number.isSafeInteger(Number(value))) {
    const what = zeroAllowed ? 'a whole number of milliseconds (0: no limit)' : 'a positive whole number of milliseconds';
    warn(fallbackWarning(name, value, `is not ${what}`, fallback));
    return undefined;
  }
  return Number(value);
}

export function port(env: Env, name: string, fallback: string, warn: Warn): number | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    warn(fallbackWarning(name, value, 'is not a TCP port from 0 to 65535', fallback));
    return undefined;
  }
  return Number(value);
}

export function url(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL; use http://host:port or https://host:port`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(name, `"${value}" uses ${parsed.protocol}; only http: and https: are supported (OTLP over HTTP)`);
  }
  return value;
}

/**
 * Parses a W3C-baggage-like list `key1=value1,key2=value2` (values percent-encoded), the format of
 * `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`.
 */
export function parseKeyValueList(name: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawPair of value.split(',')) {
    const pair = rawPair.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (eq < 0 || key === '') {
      throw new ConfigError(name, `"${pair}" is not a key=value pair; use key1=value1,key2=value2 (percent-encode commas and equals signs in values)`);
    }
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `"${pair}" has a malformed percent-encoding; encode special characters as %XX`);
    }
  }
  return out;
}
