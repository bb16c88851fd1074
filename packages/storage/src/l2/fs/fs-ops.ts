import { mkdir, open, rename, statfs, unlink, type FileHandle } from 'node:fs/promises';

/**
 * The file-system calls of an FsL2Adapter's write path and space checks, as one narrow seam: unit
 * tests replace them to inject ENOSPC or EACCES (root bypasses chmod, and a full disk is hard to
 * arrange portably). Production always uses NODE_FS_OPS.
 */
export interface FsOps {
  open(path: string, flags: string): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<unknown>;
  unlink(path: string): Promise<void>;
  /** Bytes available to this process on the file system holding `path`. */
  freeBytes(path: string): Promise<number>;
}

export const NODE_FS_OPS: FsOps = Object.freeze({
  open: (path: string, flags: string) => open(path, flags),
  rename,
  mkdir,
  unlink,
  freeBytes: async (path: string) => {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  },
});

/**
 * What tests inject (not part of the public options): the file-system seam, a clock, and the
 * intervals, so nothing waits on real time.
 */
export interface FsL2TestSeams {
  readonly fsOps?: FsOps;
  /** Milliseconds, monotonic. @default performance.now */
  readonly now?: () => number;
  /** Wall-clock milliseconds, compared with file times by `verify: 'once'`. @default Date.now */
  readonly wallClock?: () => number;
  /** How often a shrunk budget re-reads free space. @default 5000 */
  readonly spaceCheckIntervalMs?: number;
  /** At most one warning per reason per interval. @default 30000 */
  readonly warnIntervalMs?: number;
  /** How often the lock file's mtime is refreshed (0: never, tests call refresh()). @default 5000 */
  readonly lockRefreshMs?: number;
}
