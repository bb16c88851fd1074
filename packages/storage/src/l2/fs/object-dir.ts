import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { EncodedKey } from '@tierkv/core';
import { scanObjects, writeObjectFile } from './file-io.js';
import type { FsOps } from './fs-ops.js';

const OBJECT_SUFFIX = '.kv';
const TEMP_SUFFIX = '.tmp';

/** Where one object's file lives. */
export interface ObjectPath {
  readonly dir: string;
  readonly file: string;
}

/**
 * The layout of an FsL2Adapter's directory. A key's file is named by a sha256 of the encoded key
 * (keys never become paths) in one of 256 shard directories, made on first use; an object is
 * written aside under a random temporary name and renamed into place, so a reader sees the old
 * object or the new one, never half of one.
 */
export class ObjectDir {
  readonly #root: string;
  readonly #ops: FsOps;
  readonly #fsync: boolean;
  /** Shard directories known to exist (made here, or found on open). */
  readonly #dirs = new Set<string>();

  constructor(root: string, ops: FsOps, fsync: boolean) {
    this.#root = root;
    this.#ops = ops;
    this.#fsync = fsync;
  }

  pathFor(key: EncodedKey): ObjectPath {
    const hash = createHash('sha256').update(key).digest('hex');
    const dir = join(this.#root, hash.slice(0, 2));
    return { dir, file: join(dir, hash + OBJECT_SUFFIX) };
  }

  /** Writes the object aside and renames it into place; the error, or undefined on success. */
  async write(path: ObjectPath, header: Buffer, data: Uint8Array): Promise<unknown> {
    try {
      await this.#ensure(path.dir);
    } catch (err) {
      return err ?? new Error('mkdir failed');
    }
    const tmp = `${path.file}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    return writeObjectFile(this.#ops, path.dir, path.file, tmp, header, data, this.#fsync);
  }

  /** Makes `dir` again after a write found it (or the root) removed; false when that fails too. */
  async recreate(dir: string): Promise<boolean> {
    this.#dirs.delete(dir);
    try {
      await this.#ops.mkdir(dir, { recursive: true });
    } catch {
      return false;
    }
    this.#dirs.add(dir);
    return true;
  }

  /**
   * Creates the root if needed and returns the sound objects in it, oldest first; leftover
   * temporary files, and damaged objects or ones not in their key's file (reported), are removed.
   */
  async scan(onCorrupt: (file: string) => void): ReturnType<typeof scanObjects> {
    await this.#ops.mkdir(this.#root, { recursive: true });
    return scanObjects(this.#root, {
      objectSuffix: OBJECT_SUFFIX,
      tempSuffix: TEMP_SUFFIX,
      isHome: (key, file) => this.pathFor(key).file === file,
      onShard: (dir) => this.#dirs.add(dir),
      onCorrupt,
    });
  }

  async #ensure(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    // Not recursive: a vanished root is an error the write heals, putting the lock file back too.
    await this.#ops.mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    this.#dirs.add(dir);
  }
}
