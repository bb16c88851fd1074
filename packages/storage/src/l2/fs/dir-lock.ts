import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, debugLogger } from '@tierkv/core';

// Never empty: an empty host marks an old pid-only lock file (see parseOwner).
const hostname = () => osHostname() || 'localhost';

const log = debugLogger('tierkv:l2-fs');

/** The lock file an FsL2Adapter keeps in its directory while it is open. */
export const LOCK_FILE = '.tierkv-fs.lock';

/** How often the holder touches the lock file; a lock unseen for 3 intervals is stale (see DirLock). */
export const LOCK_REFRESH_MS = 5000;

/** Who holds a lock: enough to tell a live holder from a dead one whose pid was reused. */
export interface LockOwner {
  readonly pid: number;
  /** Start time of the process (field 22 of /proc/<pid>/stat, clock ticks since boot); undefined without /proc. */
  readonly start: string | undefined;
  /** /proc/sys/kernel/random/boot_id; undefined without /proc. */
  readonly boot: string | undefined;
  readonly host: string;
  /** Random per lock, so our own lock is recognised even by a process with our pid and start. */
  readonly nonce: string;
}

/**
 * Exclusive use of one directory by one FsL2Adapter. Two adapters on one directory would each
 * index and evict the other's files behind its back, so the second open is refused while the
 * owner lives, and a lock left by an owner that is gone is taken over.
 *
 * The lock file records the owner's pid, its process start time, the boot id, the hostname and a
 * random nonce (JSON), and the holder refreshes the file's mtime every `refreshMs` (an unref'd
 * timer). A lock is held when:
 * - same host and boot, with a start time: the pid is alive and its start time matches. A pid alone
 *   is not enough: a server run as PID 1 in a container that is SIGKILLed restarts as PID 1, alive,
 *   and must not be locked out by itself; a reused pid has another start time.
 * - otherwise (another host or boot, no /proc, or an old pid-only lock file): while its mtime is
 *   fresh, younger than 3 × `refreshMs`, since only a live holder keeps touching it.
 * So a process that is gone never holds the lock (on the same host at once, elsewhere after
 * 3 refreshes). Containers sharing one volume need distinct hostnames (the default), since pids
 * of other pid namespaces are not visible.
 *
 * The file appears complete or not at all (written aside, then hard-linked into place, which fails
 * if it exists, like a `wx` open); a stale lock is renamed aside and checked to be the one judged
 * before it is removed, so two takers cannot both win.
 */
export class DirLock {
  readonly path: string;
  readonly #content: string;
  #timer: NodeJS.Timeout | undefined;
  #released = false;

  private constructor(path: string, content: string, refreshMs: number) {
    this.path = path;
    this.#content = content;
    if (refreshMs > 0) {
      this.#timer = setInterval(() => void this.refresh(), refreshMs);
      this.#timer.unref();
    }
  }

  /** Takes the lock of `dir` (creating the directory), or throws ConfigError if a live owner holds it. */
  static async acquire(dir: string, options: { refreshMs?: number } = {}): Promise<DirLock> {
    const refreshMs = options.refreshMs ?? LOCK_REFRESH_MS;
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    const mine = `${JSON.stringify(currentOwner())}\n`;
    // A few rounds: each lost race against another taker re-reads the lock from scratch.
    for (let round = 0; round < 3; round++) {
      if (await createExclusive(path, mine)) return new DirLock(path, mine, refreshMs);
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      if (text === undefined) continue; // released meanwhile: try again
      const mtimeMs = await stat(path).then((s) => s.mtimeMs, () => 0);
      const owner = parseOwner(text);
      if (isHeld(owner, mtimeMs, Date.now(), 3 * (refreshMs > 0 ? refreshMs : LOCK_REFRESH_MS))) {
        const who = owner?.pid === process.pid && owner.host === hostname() ? 'another FsL2Adapter in this process' : `process ${owner?.pid ?? '?'} on ${owner?.host ?? 'an unknown host'}`;
        throw new ConfigError('l2.fs.path', `directory ${dir} is already open by ${who} (lock file ${path}); one adapter per directory: close the other adapter, or give this one its own path`);
      }
      // Stale: move it aside under a unique name, and make sure what we moved is the stale lock we read.
      const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
      try {
        await rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readFile(aside, 'utf8').catch(() => undefined);
      if (moved !== text) {
        // Another taker replaced it between our read and rename: put its lock back and look again.
        await rename(aside, path).catch(() => undefined);
        continue;
      }
      await unlink(aside).catch(() => undefined);
      if (log.enabled) log('took over the stale lock %s of %s', path, text.trim());
    }
    throw new ConfigError('l2.fs.path', `could not take the lock ${path}: other openers keep racing for it; open the directory from one process only`);
  }

  /**
   * Touches the lock file so others see the holder alive; recreates it if the directory was
   * removed under us (the adapter heals the directory too). Never throws.
   */
  async refresh(): Promise<void> {
    if (this.#released) return;
    const now = new Date();
    try {
      await utimes(this.path, now, now);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
      await mkdir(join(this.path, '..'), { recursive: true }).catch(() => undefined);
      await createExclusive(this.path, this.#content).catch(() => false);
    }
  }

  /** Removes the lock file (idempotent); the directory may then be opened again. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#timer) clearInterval(this.#timer);
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    // Only our own lock: a stale-lock takeover by someone else must not be undone.
    if (text === this.#content) await unlink(this.path).catch(() => undefined);
  }
}

/** Whether the lock described by `owner` (undefined: unreadable) with file mtime `mtimeMs` is held. */
export function isHeld(owner: LockOwner | undefined, mtimeMs: number, nowMs: number, staleAfterMs: number): boolean {
  const fresh = nowMs - mtimeMs < staleAfterMs;
  if (!owner) return fresh; // half-readable or foreign: trust only a live heartbeat
  // An old pid-only file: never ours (we write JSON); held while that pid lives and it is fresh.
  if (owner.host === '') return fresh && owner.pid !== process.pid && pidExists(owner.pid);
  const me = currentOwner();
  if (owner.host === me.host && owner.boot !== undefined && owner.boot === me.boot && owner.start !== undefined && me.start !== undefined) {
    // Same machine, same boot, and /proc works: the verdict is exact.
    return processStartTime(owner.pid) === owner.start;
  }
  return fresh;
}

/** Parses a lock file: the JSON record, or an old pid-only file (pid kept, nothing else known). */
export function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<Record<keyof LockOwner, unknown>>;
    if (typeof o === 'number') return { pid: o, start: undefined, boot: undefined, host: '', nonce: '' };
    if (o === null || typeof o !== 'object' || !Number.isSafeInteger(o.pid) || typeof o.host !== 'string') return undefined;
    const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
    return { pid: o.pid as number, start: str(o.start), boot: str(o.boot), host: o.host, nonce: str(o.nonce) ?? '' };
  } catch {
    return undefined;
  }
}

let self: Omit<LockOwner, 'nonce'> | undefined;

/** This process as a lock owner (with a fresh nonce). */
export function currentOwner(): LockOwner {
  self ??= { pid: process.pid, start: processStartTime(process.pid), boot: readProc('/proc/sys/kernel/random/boot_id'), host: hostname() };
  return { ...self, nonce: randomBytes(8).toString('hex') };
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined if no such process or no /proc. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 3 is fields[0]
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Creates `path` with `content` unless it exists; true if created. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
