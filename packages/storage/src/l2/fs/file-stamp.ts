import type { Stats } from 'node:fs';

/**
 * What an object file looked like (inode, size, modification and change times) when its payload
 * last verified, so later loads of the unchanged file can skip the hash ("verify: 'once'").
 *
 * Why the times can be trusted: every write to a file through the file system moves its mtime and
 * ctime (ctime cannot be set back by any system call), and so does a rename over it (a new inode
 * besides). But a time is only as fine as the kernel's clock tick (1–10 ms) or the file system's
 * granularity (1 s on some; 2 s for FAT's mtime): two writes within one tick carry the same times.
 * So, like git's "racily clean" index entries, a verification counts only when it began at least
 * a margin after the file's last change: any later change then carries later times. Files whose
 * times have no sub-millisecond part are taken to have coarse timestamps and get the wide margin.
 */
export interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** Margin past a file's last change for file systems with nanosecond times (a few kernel ticks). */
export const FINE_MARGIN_MS = 100;
/** Margin for file systems with second (or FAT's two-second) times. */
export const COARSE_MARGIN_MS = 3000;

export function stampOf(st: Stats): FileStamp {
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

export function sameStamp(a: FileStamp, st: Stats): boolean {
  return a.ctimeMs === st.ctimeMs && a.mtimeMs === st.mtimeMs && a.size === st.size && a.ino === st.ino;
}

/**
 * Whether a verification whose read began at wall-clock `readStartMs` may vouch for the file with
 * these times from now on: only when the file's last change lies a margin before that read.
 */
export function settledBefore(stamp: FileStamp, readStartMs: number): boolean {
  const coarse = Number.isInteger(stamp.mtimeMs) || Number.isInteger(stamp.ctimeMs);
  return Math.max(stamp.mtimeMs, stamp.ctimeMs) + (coarse ? COARSE_MARGIN_MS : FINE_MARGIN_MS) < readStartMs;
}
