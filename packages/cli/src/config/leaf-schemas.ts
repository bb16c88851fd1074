import { z } from 'zod';
import { parseSize, SIZE_UNITS_HELP } from './sizes.js';

/**
 * Leaf schemas shared by every command's config. Each accepts the native YAML/JSON type and the
 * string form that flags and environment variables carry, and fails with a message that states
 * the allowed values (the caller prefixes the field's name and where the value came from).
 */

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A byte size: `4GiB`, `512MB`, `65536`, or a number of bytes. */
export function sizeSchema(options: { min?: number; max?: { bytes: number; why: string } } = {}) {
  const min = options.min ?? 1;
  const max = options.max;
  return z.unknown().transform((value, ctx): number => {
    if (typeof value !== 'string' && typeof value !== 'number') {
      ctx.addIssue({ code: 'custom', message: `expected a size such as 4GiB (${SIZE_UNITS_HELP}), got ${show(value)}` });
      return z.NEVER;
    }
    let bytes: number;
    try {
      bytes = parseSize(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `invalid size ${show(value)}; expected a number with an optional unit: ${SIZE_UNITS_HELP} (e.g. 4GiB)` });
      return z.NEVER;
    }
    if (bytes < min) {
      ctx.addIssue({ code: 'custom', message: `size ${show(value)} is too small; expected at least ${min} bytes` });
      return z.NEVER;
    }
    if (max !== undefined && bytes > max.bytes) {
      ctx.addIssue({ code: 'custom', message: `size ${show(value)} is too large: ${max.why}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** An integer in [min, max], from a number or a decimal string. */
export function intSchema(min: number, max: number, what = 'an integer') {
  return z.unknown().transform((value, ctx): number => {
    const n = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} in [${min}, ${max}], got ${show(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A TCP port; 0 asks the OS for any free port. */
export function portSchema() {
  return intSchema(0, 65535, 'a TCP port (0 = any free port)');
}

/** A number in (min, max] (or [min, max] when `inclusiveMin`). */
export function numberSchema(min: number, max: number, options: { inclusiveMin?: boolean; what?: string } = {}) {
  const what = options.what ?? 'a number';
  const low = options.inclusiveMin ? '[' : '(';
  return z.unknown().transform((value, ctx): number => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    const aboveMin = typeof n === 'number' && (options.inclusiveMin ? n >= min : n > min);
    if (typeof n !== 'number' || !Number.isFinite(n) || !aboveMin || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} in ${low}${min}, ${max}], got ${show(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** One of a closed set of names (case-insensitive on input). */
export function enumSchema<const T extends readonly [string, ...string[]]>(values: T) {
  return z.unknown().transform((value, ctx): T[number] => {
    const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      ctx.addIssue({ code: 'custom', message: `unknown value ${show(value)}; allowed values: ${values.join(', ')}` });
      return z.NEVER;
    }
    return v as T[number];
  });
}

/** A list of names from a closed set: a YAML/JSON array or a comma-separated string. */
export function enumListSchema<const T extends readonly [string, ...string[]]>(values: T) {
  return z.unknown().transform((value, ctx): T[number][] => {
    const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
    if (!items) {
      ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of: ${values.join(', ')}; got ${show(value)}` });
      return z.NEVER;
    }
    const out: T[number][] = [];
    for (const item of items) {
      const v = typeof item === 'string' ? item.trim().toLowerCase() : item;
      if (v === '') continue;
      if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
        ctx.addIssue({ code: 'custom', message: `unknown value ${show(item)}; allowed values: ${values.join(', ')}` });
        return z.NEVER;
      }
      if (!out.includes(v)) out.push(v);
    }
    return out;
  });
}

/** true/false, yes/no, on/off, 1/0. */
export function booleanSchema() {
  return z.unknown().transform((value, ctx): boolean => {
    if (typeof value === 'boolean') return value;
    const v = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'number' ? String(value) : '';
    if (['true', 'yes', 'on', '1'].includes(v)) return true;
    if (['false', 'no', 'off', '0'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `expected a boolean (true/false, yes/no, on/off, 1/0), got ${show(value)}` });
    return z.NEVER;
  });
}

/** A host name or IP address to bind or connect to. */
export function hostSchema() {
  return z.unknown().transform((value, ctx): string => {
    if (typeof value !== 'string' || !/^[A-Za-z0-9.:_\-[\]]+$/.test(value.trim())) {
      ctx.addIssue({ code: 'custom', message: `expected a host name or IP address such as 127.0.0.1, got ${show(value)}` });
      return z.NEVER;
    }
    return value.trim();
  });
}

/** A non-empty string (paths, tokens). */
export function stringSchema(what = 'a non-empty string') {
  return z.unknown().transform((value, ctx): string => {
    if (typeof value !== 'string' || value.trim() === '') {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${show(value)}` });
      return z.NEVER;
    }
    return value;
  });
}

/** A URL whose scheme is one of `protocols` (without the colon). */
export function urlSchema(protocols: readonly string[], example: string) {
  return z.unknown().transform((value, ctx): string => {
    let ok = false;
    if (typeof value === 'string') {
      try {
        const url = new URL(value);
        ok = protocols.includes(url.protocol.replace(/:$/, '')) && url.hostname !== '';
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      ctx.addIssue({ code: 'custom', message: `expected a ${protocols.map((p) => `${p}://`).join(' or ')} URL such as ${example}, got ${show(value)}` });
      return z.NEVER;
    }
    return value as string;
  });
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/;

/**
 * A non-empty list of `host:port` addresses (`[::1]:7000` for IPv6): a comma-separated string, or
 * a YAML/JSON array of such strings or of `{ host, port }` (the form `--print-config` shows).
 */
export function hostPortListSchema(example: string) {
  return z.unknown().transform((value, ctx): { host: string; port: number }[] => {
    const items = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : Array.isArray(value) ? value : undefined;
    const fail = (what: string) => {
      ctx.addIssue({ code: 'custom', message: `${what}; expected a comma-separated list of host:port such as ${example}` });
      return z.NEVER;
    };
    if (!items || items.length === 0) return fail(`expected at least one host:port, got ${show(value)}`);
    const out: { host: string; port: number }[] = [];
    for (const item of items) {
      let host: unknown;
      let port: unknown;
      if (typeof item === 'string') {
        const m = HOST_PORT.exec(item.trim());
        if (!m) return fail(`invalid address ${show(item)}`);
        [host, port] = [m[1] ?? m[2], Number(m[3])];
      } else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        ({ host, port } = item as { host?: unknown; port?: unknown });
      }
      if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        return fail(`invalid address ${typeof item === 'string' ? show(item) : JSON.stringify(item)} (the port must be in [1, 65535])`);
      }
      out.push({ host, port });
    }
    return out;
  });
}

/** A Redis key prefix: any string without `{` or `}` (a hash tag would put every key in one cluster slot). */
export function redisKeyPrefixSchema() {
  return z.unknown().transform((value, ctx): string => {
    if (typeof value !== 'string' || /[{}]/.test(value)) {
      ctx.addIssue({ code: 'custom', message: `expected a key prefix without "{" or "}" (a hash tag would put every key in one cluster slot) such as tierkv:prod:, got ${show(value)}` });
      return z.NEVER;
    }
    return value;
  });
}
