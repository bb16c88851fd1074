import { ConfigError, refuseUnknownOptions, type TelemetryOptions } from '@tierkv/core';

export interface FsL2AdapterOptions extends TelemetryOptions {
  /** Directory that holds the objects (created if missing). One adapter per directory. Required. */
  path: string;
  /** Byte budget (object files including headers); least recently used unpinned objects are evicted to stay within it. @default 1 GiB */
  capacityBytes?: number;
  /** fsync each object file and its directory before it counts as stored (survives power loss, slower). @default false */
  fsync?: boolean;
  /**
   * When a load hashes the payload it read. `once`: on an object's first load in this process, and
   * again whenever its file has changed since (inode, size, mtime or ctime differ, checked with one
   * `fstat` per load); an unchanged file that verified is trusted. `always`: every load. Either way
   * a byte changed through the file system is never returned; only `always` also catches damage
   * that bypasses it (media bit rot under a file already verified in this process). See the README.
   * @default 'once'
   */
  verify?: FsVerifyPolicy;
  /** Max file-system operations (one object read or write each) in flight. @default 16 */
  maxConcurrentOps?: number;
  /**
   * Read handles of recently loaded object files kept open, so a repeated load is one read instead
   * of open + read + close (0: none). Each is a file descriptor of this process. @default 128
   */
  maxOpenFiles?: number;
  /** The `tierkv.l2.adapter` attribute. @default 'fs' */
  name?: string;
  /**
   * Where failures (errno code and directory, at most one line per reason per 30 s) and healing
   * (a recreated directory, a lowered budget) are reported. @default console.warn
   */
  warn?: (line: string) => void;
}

/** See FsL2AdapterOptions.verify. */
export type FsVerifyPolicy = 'once' | 'always';

export interface ResolvedFsL2AdapterOptions {
  readonly path: string;
  readonly verify: FsVerifyPolicy;
  readonly capacityBytes: number;
  readonly fsync: boolean;
  readonly maxConcurrentOps: number;
  readonly maxOpenFiles: number;
  readonly name: string;
  readonly warn: (line: string) => void;
  readonly telemetry: TelemetryOptions;
}

export const DEFAULT_FS_L2_OPTIONS = Object.freeze({
  capacityBytes: 1024 ** 3,
  fsync: false,
  verify: 'once' as FsVerifyPolicy,
  maxConcurrentOps: 16,
  maxOpenFiles: 128,
  name: 'fs',
});

export function resolveFsL2Options(options: FsL2AdapterOptions): ResolvedFsL2AdapterOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('fsL2', 'expected options { path, capacityBytes? }');
  refuseUnknownOptions(options, ['path', 'capacityBytes', 'fsync', 'verify', 'maxConcurrentOps', 'maxOpenFiles', 'name', 'warn', 'meterProvider', 'tracerProvider'], 'fsL2');
  if (typeof options.path !== 'string' || options.path.length === 0) throw new ConfigError('fsL2.path', 'expected the directory to keep objects in, e.g. "./.tierkv/l2"');
  const capacityBytes = options.capacityBytes ?? DEFAULT_FS_L2_OPTIONS.capacityBytes;
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0) throw new ConfigError('fsL2.capacityBytes', `expected a positive integer number of bytes, got ${options.capacityBytes}`);
  const maxConcurrentOps = options.maxConcurrentOps ?? DEFAULT_FS_L2_OPTIONS.maxConcurrentOps;
  if (!Number.isSafeInteger(maxConcurrentOps) || maxConcurrentOps < 1 || maxConcurrentOps > 1024) throw new ConfigError('fsL2.maxConcurrentOps', `expected an integer in [1, 1024], got ${options.maxConcurrentOps}`);
  const maxOpenFiles = options.maxOpenFiles ?? DEFAULT_FS_L2_OPTIONS.maxOpenFiles;
  if (!Number.isSafeInteger(maxOpenFiles) || maxOpenFiles < 0 || maxOpenFiles > 65_536) throw new ConfigError('fsL2.maxOpenFiles', `expected an integer in [0, 65536] (0: keep no file open), got ${options.maxOpenFiles}`);
  if (options.warn !== undefined && typeof options.warn !== 'function') throw new ConfigError('fsL2.warn', 'expected a function (line: string) => void');
  const verify = options.verify ?? DEFAULT_FS_L2_OPTIONS.verify;
  if (verify !== 'once' && verify !== 'always') throw new ConfigError('fsL2.verify', `expected 'once' (hash on first load and after any change) or 'always', got ${JSON.stringify(options.verify)}`);
  const name = options.name ?? DEFAULT_FS_L2_OPTIONS.name;
  if (typeof name !== 'string' || !/^[a-z0-9_.-]{1,32}$/i.test(name)) throw new ConfigError('fsL2.name', `expected 1-32 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
  return Object.freeze({
    path: options.path,
    capacityBytes,
    fsync: options.fsync ?? DEFAULT_FS_L2_OPTIONS.fsync,
    verify,
    maxConcurrentOps,
    maxOpenFiles,
    name,
    warn: options.warn ?? ((line: string) => console.warn(line)),
    telemetry: options.meterProvider ? { meterProvider: options.meterProvider } : {},
  });
}
