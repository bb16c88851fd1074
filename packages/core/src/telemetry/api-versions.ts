import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Two copies of `@opentelemetry/api` in one process: the one that registered the global, and ours. */
export interface ApiVersionConflict {
  /** The version tierkv's package imports. */
  readonly imported: string;
  /** The version that created the process-wide global (`Symbol.for('opentelemetry.js.api.<major>')`). */
  readonly registered: string;
}

const importedVersions = new Map<string, string | null>();
const warned = new WeakMap<(message: string) => void, Set<string>>();

/**
 * The version of the `@opentelemetry/api` copy that `from` (a module URL) resolves to, from its
 * package.json (the API does not export its version). Null when it cannot be found (e.g. bundled).
 */
function importedApiVersion(from: string): string | null {
  const cached = importedVersions.get(from);
  if (cached !== undefined) return cached;
  let version: string | null = null;
  try {
    let dir = dirname(createRequire(from).resolve('@opentelemetry/api'));
    for (let depth = 0; depth < 8 && version === null; depth++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === '@opentelemetry/api' && typeof pkg.version === 'string') version = pkg.version;
      } catch {
        // no package.json at this level
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  } catch {
    // not resolvable from here (bundled): nothing to compare
  }
  importedVersions.set(from, version);
  return version;
}

/**
 * Whether the API's process-wide global was created by another version than the copy `from`
 * imports. The API registers itself once, on `Symbol.for('opentelemetry.js.api.<major>')` holding
 * its `version`; a different copy can neither register next to it (versions must match exactly)
 * nor, if older in minor version, be read by ours.
 */
export function detectApiVersionConflict(from: string = import.meta.url): ApiVersionConflict | undefined {
  const imported = importedApiVersion(from);
  if (imported === null) return undefined;
  const slot = (globalThis as Record<symbol, unknown>)[Symbol.for(`opentelemetry.js.api.${imported.split('.')[0]}`)];
  const registered = (slot as { version?: unknown } | undefined)?.version;
  if (typeof registered !== 'string' || registered === imported) return undefined;
  return { imported, registered };
}

/** Whether our copy can read providers registered through the other (same major, minor at least ours). */
function canRead({ imported, registered }: ApiVersionConflict): boolean {
  const [im, imin] = imported.split('.').map(Number);
  const [rm, rmin] = registered.split('.').map(Number);
  return im === rm && (rmin ?? 0) >= (imin ?? 0);
}

export function apiVersionConflictMessage(c: ApiVersionConflict): string {
  const effect = canRead(c)
    ? 'tierkv follows providers registered through it, but cannot register its own global provider'
    : 'tierkv can neither see providers registered through it nor register its own, so its metrics go nowhere unless a meterProvider is passed';
  return (
    `tierkv: two versions of @opentelemetry/api are loaded: ${c.registered} registered the process-wide API first, ` +
    `and tierkv imports ${c.imported}; ${effect}. Load one copy: run \`npm dedupe\` (\`npm ls @opentelemetry/api\` lists the copies), ` +
    `or align the host's @opentelemetry/api version with ${c.imported}`
  );
}

/**
 * Warns (once per pair of versions and per `warn`) when two API versions are loaded. Called by
 * `startTelemetry` and at each module's first bind; costs a property read once the version is cached.
 */
export function warnOnApiVersionConflict(
  warn: (message: string) => void = (m) => console.warn(m),
  from: string = import.meta.url,
): ApiVersionConflict | undefined {
  const conflict = detectApiVersionConflict(from);
  if (!conflict) return undefined;
  let seen = warned.get(warn);
  if (!seen) warned.set(warn, (seen = new Set()));
  const key = `${conflict.registered}/${conflict.imported}`;
  if (!seen.has(key)) {
    seen.add(key);
    try {
      warn(apiVersionConflictMessage(conflict));
    } catch {
      // A throwing logger must not break the module being created.
    }
  }
  return conflict;
}
