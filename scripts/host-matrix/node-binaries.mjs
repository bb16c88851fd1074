// Node binaries for the host matrix, from the npm registry: the `node` package only downloads its
// platform package (`node-<platform>-<arch>`) in an install script, which npm 11 does not run, so
// the platform package is installed directly. Each exact version is kept in a cache directory
// (TIERKV_NODE_CACHE, default ~/.cache/tierkv/node), so CI and later local runs download it once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export class NodeBinaryUnavailableError extends Error {
  constructor(major, reason) {
    super(`Node ${major} for the host matrix is not available: ${reason}. ` +
      'Check network access to the npm registry (npm view node-' + `${process.platform}-${process.arch}` + ' versions), or point TIERKV_NODE_CACHE at a directory holding <platform>-<version>/bin/node');
    this.name = 'NodeBinaryUnavailableError';
    this.major = major;
  }
}

export function nodeCacheDir(env = process.env) {
  return env.TIERKV_NODE_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tierkv', 'node');
}

function npm(args, options = {}) {
  return spawnSync('npm', args, { encoding: 'utf8', timeout: 300_000, ...options });
}

/** The newest published version of `node-<platform>-<arch>` with this major. */
function newestVersion(pkg, major) {
  const r = npm(['view', `${pkg}@${major}`, 'version', '--json']);
  if (r.status !== 0) throw new Error(`npm view ${pkg}@${major} failed: ${r.stderr.trim().split('\n').at(-1)}`);
  const v = JSON.parse(r.stdout);
  const versions = Array.isArray(v) ? v : [v];
  if (versions.length === 0) throw new Error(`no ${pkg}@${major} is published`);
  return versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
}

/**
 * The path of a `bin/node` of major `major`: the newest published one, from the cache when present.
 * With no registry access, falls back to the newest cached version of that major.
 */
export function nodeBinary(major, { cache = nodeCacheDir(), log = () => undefined } = {}) {
  const platform = `${process.platform}-${process.arch}`;
  const pkg = `node-${platform}`;
  let version;
  try {
    version = newestVersion(pkg, major);
  } catch (err) {
    const cached = cachedVersions(cache, platform, major);
    if (cached.length === 0) throw new NodeBinaryUnavailableError(major, err.message);
    version = cached.at(-1);
    log(`registry unreachable (${err.message}); using cached Node ${version}`);
  }
  const dir = join(cache, `${platform}-${version}`);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return { version, bin };
  log(`downloading ${pkg}@${version} into ${cache}`);
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  let r = npm(['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-fund', '--no-audit', '--loglevel=error', `${pkg}@${version}`]);
  if (r.status !== 0) r = npm(['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-fund', '--no-audit', '--loglevel=error', `${pkg}@${version}`]);
  if (r.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new NodeBinaryUnavailableError(major, `npm install ${pkg}@${version} failed: ${r.stderr.trim().split('\n').at(-1)}`);
  }
  const installed = join(staging, 'node_modules', pkg);
  if (!existsSync(join(installed, 'bin', 'node'))) throw new NodeBinaryUnavailableError(major, `${pkg}@${version} has no bin/node`);
  // Rename into place: a concurrent run sees either no directory or a complete one.
  try {
    renameSync(installed, dir);
  } catch (err) {
    if (!existsSync(bin)) throw err;
  }
  rmSync(staging, { recursive: true, force: true });
  return { version, bin };
}

function cachedVersions(cache, platform, major) {
  try {
    return readdirSync(cache)
      .filter((d) => d.startsWith(`${platform}-${major}.`) && existsSync(join(cache, d, 'bin', 'node')))
      .map((d) => d.slice(platform.length + 1))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}
