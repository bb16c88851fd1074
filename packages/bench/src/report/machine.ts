import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  /**
   * 1-minute load average when the run started and when it ended: figures taken on a busy machine
   * (load above the core count) are noisy, and the report says so.
   */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export function machineInfo(loadAtStart: number): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 },
  };
}

export function loadAverageNow(): number {
  return loadavg()[0] ?? 0;
}

/** Peers every report names, whether or not a scenario lists them. */
export const DEFAULT_PEERS: readonly string[] = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-metrics',
  'lru-cache',
  'ioredis',
  'bentocache',
  'zeromq',
  'msgpackr',
];

/** Binaries whose version comes from `<binary> --version` rather than a package.json. */
const BINARY_PEERS = new Set(['redis-server']);

/**
 * The version of a peer: `name@1.2.3` entries keep their version; words after the name (`ioredis 5`)
 * are ignored; binaries answer `--version`;
 * packages are read from the nearest `node_modules/<name>/package.json` (a package's exports map
 * may hide its package.json from `require.resolve`, so the file is located directly).
 */
export function peerVersion(entry: string): { name: string; version: string } {
  // `ioredis 5` names the package `ioredis`; the installed version is what gets reported.
  const peer = entry.trim().split(/\s+/)[0] ?? entry;
  const at = peer.lastIndexOf('@');
  if (at > 0) return { name: peer.slice(0, at), version: peer.slice(at + 1) };
  if (BINARY_PEERS.has(peer)) return { name: peer, version: binaryVersion(peer) };
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'node_modules', peer, 'package.json');
    if (existsSync(file)) {
      try {
        return { name: peer, version: String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? '?') };
      } catch {
        return { name: peer, version: '?' };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return { name: peer, version: 'not installed' };
    dir = parent;
  }
}

function binaryVersion(binary: string): string {
  try {
    const out = execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim().split('\n')[0] ?? '?';
  } catch {
    return 'not installed';
  }
}

/** Whether a binary can be started (`<binary> --version` succeeds). */
export function hasBinary(binary: string): boolean {
  try {
    execFileSync(binary, ['--version'], { timeout: 5000, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
