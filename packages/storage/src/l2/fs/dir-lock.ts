import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, debugLogger } from '@tierkv/core';

const log = debugLogger('tierkv:l2-fs');

/** The lock file an FsL2Adapter keeps in its directory while it is open. */
export const LOCK_FILE = '.tierkv-fs.lock';

/**
 * Exclusive use of one directory by one FsL2Adapter: a lock file holding the owner's pid. Two
 * adapters on one directory would each index and evict the other's files behind its back, so the
 * second open is refused while the owner lives; a lock left by a process that died (crash, kill
 * -9) is stale and taken over. The file appears complete or not at all (written aside, then
 * hard-linked into place, which fails if it exists, like a `wx` open), so a reader never sees
 * a half-written pid. Pids are per host: directories shared between hosts are not covered.
 */
export class DirLock {
  readonly path: string;
  #released = false;

  private constructor(path: string) {
    this.path = path;
  }

  /** Takes the lock of `dir` (creating the directory), or throws ConfigError if a live process holds it. */
  static async acquire(dir: string): Promise<DirLock> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    const mine = `${process.pid}\n`;
    // A few rounds: each lost race against another taker re-reads the lock from scratch.
    for (let round = 0; round < 3; round++) {
      if (await createExclusive(path, mine)) return new DirLock(path);
      const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
      if (text === undefined) continue; // released meanwhile: try again
      const pid = parsePid(text);
      if (pid !== undefined && isAlive(pid)) {
        const who = pid === process.pid ? 'another FsL2Adapter in this process' : `process ${pid}`;
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
      if (log.enabled) log('took over the stale lock %s of dead process %s', path, pid ?? '(unreadable pid)');
    }
    throw new ConfigError('l2.fs.path', `could not take the lock ${path}: other openers keep racing for it; open the directory from one process only`);
  }

  /** Removes the lock file (idempotent); the directory may then be opened again. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    // Only our own lock: a stale-lock takeover by someone else must not be undone.
    if (text !== undefined && parsePid(text) === process.pid) await unlink(this.path).catch(() => undefined);
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

function parsePid(text: string): number | undefined {
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
