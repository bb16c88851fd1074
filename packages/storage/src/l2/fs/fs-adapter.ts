import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ClosedError, debugLogger, encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { L2Adapter, L2StoreItem, L2Usage } from '../l2-adapter.js';
import { L2AdapterCounts } from '../l2-metrics.js';
import { LruIndex } from '../lru-index.js';
import { Semaphore } from '../semaphore.js';
import { DirLock } from './dir-lock.js';
import { announcedHeaderLength, decodeHeader, encodeHeader, payloadMatches } from './object-file.js';
import { resolveFsL2Options, type FsL2AdapterOptions, type ResolvedFsL2AdapterOptions } from './fs-options.js';

export { DEFAULT_FS_L2_OPTIONS } from './fs-options.js';

const log = debugLogger('tierkv:l2-fs');
const OBJECT_SUFFIX = '.kv';
const TEMP_SUFFIX = '.tmp';
// Enough for any realistic key + layout JSON, so a load usually reads its header in one call.
const HEADER_READ_BYTES = 1024;

interface FileEntry {
  size: number;
  pins: number;
  readonly file: string;
  readonly payloadLength: number;
}

/**
 * The embedded L2 tier: one file per object under a directory.
 *
 * - File names are a sha256 of the encoded key, sharded into 256 subdirectories: keys never become
 *   paths. The header repeats the key, so a hash collision is a miss, not someone else's data.
 * - Writes go to a temporary file that is renamed into place (optionally fsynced first), so a
 *   reader sees the old object or the new one, never half of one.
 * - Every object carries a crc32 of its header and of its payload. A corrupt or truncated file is
 *   a miss, counted in `tierkv.l2.corrupt`, and deleted; its bytes are never handed out as data.
 * - `open()` rebuilds the index by reading every header, so objects survive a restart (in
 *   modification-time order for LRU). Leftover temporary files are removed.
 * - A byte budget with LRU eviction by access; pinned objects are neither evicted nor deleted.
 * - At most `maxConcurrentOps` object reads or writes are in flight.
 * - One open adapter per directory: `open()` takes a pid lock file (see DirLock), `close()` drops it.
 */
export class FsL2Adapter implements L2Adapter {
  readonly name: string;
  readonly options: ResolvedFsL2AdapterOptions;
  readonly #index = new LruIndex<FileEntry>();
  readonly #io: Semaphore;
  readonly #dirs = new Set<string>();
  readonly #pending = new Set<Promise<unknown>>();
  // The last store or delete of each key still running (see #serial).
  readonly #byKey = new Map<EncodedKey, Promise<void>>();
  readonly #counts: L2AdapterCounts;
  #lock: DirLock | undefined;
  #closed = false;

  private constructor(options: ResolvedFsL2AdapterOptions) {
    this.options = options;
    this.name = options.name;
    this.#io = new Semaphore(options.maxConcurrentOps);
    this.#counts = new L2AdapterCounts(this.name, options.telemetry);
  }

  /**
   * Opens (creating if needed) the directory, takes its lock (ConfigError if another live adapter
   * or process has it open; a dead owner's lock is taken over) and rebuilds the index from the
   * object headers there.
   */
  static async open(options: FsL2AdapterOptions): Promise<FsL2Adapter> {
    const resolved = resolveFsL2Options(options);
    const lock = await DirLock.acquire(resolved.path);
    const adapter = new FsL2Adapter(resolved);
    adapter.#lock = lock;
    try {
      await adapter.#rebuild();
    } catch (err) {
      adapter.#counts.close();
      await lock.release();
      throw err;
    }
    return adapter;
  }

  /** Objects found corrupt since open (also exported as `tierkv.l2.corrupt`). */
  get corruptObjects(): number {
    return this.#counts.corrupt;
  }

  /** Objects evicted for the budget since open (also exported as `tierkv.l2.evicted`). */
  get evictedObjects(): number {
    return this.#counts.evicted;
  }

  store(items: readonly L2StoreItem[]): Promise<boolean[]> {
    return this.#track('store', () => Promise.all(items.map((item) => this.#serial(encodeKey(item.key), () => this.#io.run(() => this.#storeOne(item))))));
  }

  lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    return this.#track('lookupAndLock', async () => keys.map((k) => this.#index.pin(encodeKey(k))));
  }

  load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout): Promise<boolean[]> {
    const layoutJson = layout === undefined ? undefined : JSON.stringify(layout.toJSON());
    return this.#track('load', () => Promise.all(keys.map((k, i) => this.#io.run(() => this.#loadOne(k, targets[i], layoutJson)))));
  }

  unlock(keys: readonly ObjectKey[]): Promise<void> {
    return this.#track('unlock', async () => {
      for (const k of keys) this.#index.unpin(encodeKey(k));
    });
  }

  delete(keys: readonly ObjectKey[]): Promise<boolean[]> {
    return this.#track('delete', () =>
      Promise.all(
        keys.map((k) =>
          this.#serial(encodeKey(k), async () => {
            const e = this.#index.deleteUnpinned(encodeKey(k));
            if (!e) return false;
            await this.#io.run(() => removeFile(e.file));
            return true;
          }),
        ),
      ),
    );
  }

  clear(): Promise<number> {
    return this.#track('clear', async () => {
      const victims = this.#index.clearUnpinned();
      await Promise.all(victims.map(([, e]) => this.#io.run(() => removeFile(e.file))));
      return victims.length;
    });
  }

  usage(): L2Usage {
    return { usedBytes: this.#index.usedBytes, capacityBytes: this.options.capacityBytes, objects: this.#index.size };
  }

  /** Pins currently held on `key` (diagnostics and tests). */
  pinsOf(key: ObjectKey): number {
    return this.#index.pinsOf(encodeKey(key));
  }

  /** The file that holds `key` (tests use it to damage objects on purpose). */
  fileOf(key: ObjectKey): string {
    return this.#pathFor(encodeKey(key)).file;
  }

  /**
   * Test hook (used by FaultyL2Adapter): flips one payload byte of the stored file, below the
   * checksum, so the next load must detect it. Returns false when the key is absent.
   */
  async corruptStoredObject(key: ObjectKey, byteIndex = 0): Promise<boolean> {
    const e = this.#index.get(encodeKey(key));
    if (!e || e.payloadLength === 0) return false;
    const fh = await open(e.file, 'r+').catch(() => undefined);
    if (!fh) return false;
    try {
      const offset = e.size - e.payloadLength + (Math.abs(Math.trunc(byteIndex)) % e.payloadLength);
      const one = Buffer.alloc(1);
      await fh.read(one, 0, 1, offset);
      one[0] = one[0]! ^ 0xff;
      await fh.write(one, 0, 1, offset);
      return true;
    } finally {
      await fh.close();
    }
  }

  bindTelemetry(telemetry: TelemetryOptions): void {
    this.#counts.bindTelemetry(telemetry);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    this.#counts.close();
    await this.#lock?.release();
  }

  /**
   * Runs stores and deletes of one key one after another: overlapping ones could otherwise rename
   * and index in different orders (with fsync the directory sync widens the gap), leaving the index
   * describing one write while the file holds another, and usage drifting from the disk.
   */
  #serial<T>(key: EncodedKey, fn: () => Promise<T>): Promise<T> {
    const prev = this.#byKey.get(key);
    const run = prev === undefined ? fn() : prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#byKey.set(key, tail);
    void tail.then(() => {
      if (this.#byKey.get(key) === tail) this.#byKey.delete(key);
    });
    return run;
  }

  /** Runs one public call unless closed, and remembers it until it settles so close() can wait. */
  #track<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError('FsL2Adapter', operation));
    const p = fn();
    this.#pending.add(p);
    const done = () => void this.#pending.delete(p);
    p.then(done, done);
    return p;
  }

  async #storeOne(item: L2StoreItem): Promise<boolean> {
    const key = encodeKey(item.key);
    const { dir, file } = this.#pathFor(key);
    let header: Buffer;
    try {
      header = encodeHeader(key, JSON.stringify(item.layout.toJSON()), item.data);
    } catch (err) {
      if (log.enabled) log('cannot encode object %s: %s', key, String(err));
      return false;
    }
    const size = header.length + item.data.byteLength;
    const cap = this.options.capacityBytes;
    if (size > cap) return false;
    // Make room before writing; the replaced object of the same key counts as freed.
    const replaced = this.#index.get(key);
    const victims = this.#index.victims(size - (replaced?.size ?? 0), cap, key);
    if (!victims) return false;
    for (const [k, e] of victims) {
      this.#index.delete(k);
      this.#counts.evicted++;
      void removeFile(e.file);
    }
    this.#index.reserve(size);
    const tmp = `${file}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    let fh: FileHandle | undefined;
    try {
      await this.#ensureDir(dir);
      fh = await open(tmp, 'w');
      await writeAll(fh, header, item.data);
      if (this.options.fsync) await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, file);
      if (this.options.fsync) await syncDir(dir);
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      await removeFile(tmp);
      this.#index.unreserve(size);
      if (log.enabled) log('store of %s failed: %s', key, String(err));
      return false;
    }
    this.#index.unreserve(size);
    const current = this.#index.get(key);
    this.#index.set(key, { size, pins: current?.pins ?? 0, file, payloadLength: item.data.byteLength });
    return true;
  }

  /**
   * The hot path: the index knows the file's header length (size - payload), so header and payload
   * come in with one readv straight into the target, plus one spare byte that must stay unread (a
   * longer file is not ours); no fstat, no separate header read. Anything unexpected (another header
   * length, a short or long file, a foreign key) goes to #loadChecked, which decides from the file
   * alone whether it is corrupt. The payload crc32 is always verified before answering true.
   */
  async #loadOne(k: ObjectKey, target: Uint8Array | undefined, layoutJson: string | undefined): Promise<boolean> {
    const key = encodeKey(k);
    const e = this.#index.touch(key);
    if (!e || !target) return false;
    if (target.byteLength !== e.payloadLength) return false; // wrong-size target: a miss, the object is fine
    let fh: FileHandle | undefined;
    try {
      fh = await open(e.file, 'r');
      const headerBuf = Buffer.allocUnsafe(e.size - e.payloadLength);
      const spare = Buffer.allocUnsafe(1);
      const got = await readvFully(fh, [headerBuf, target, spare]);
      const header = got === e.size ? decodeHeader(headerBuf) : undefined;
      if (!header || header.headerLength !== headerBuf.length || header.encodedKey !== key || header.payloadLength !== target.byteLength) {
        return await this.#loadChecked(key, e, fh, target, layoutJson);
      }
      if (!payloadMatches(target, header.payloadCrc)) return await this.#corruptFound(key, e, 'payload checksum mismatch');
      // Stored with another layout of the same size: a miss (the object is fine and stays).
      return layoutJson === undefined || header.layoutJson === layoutJson;
    } catch (err) {
      return this.#loadFailed(key, e, err);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  /** The slow, self-describing load: header first, then the payload, the file's size from fstat. */
  async #loadChecked(key: EncodedKey, e: FileEntry, fh: FileHandle, target: Uint8Array, layoutJson: string | undefined): Promise<boolean> {
    const { size } = await fh.stat();
    const head = Buffer.allocUnsafe(HEADER_READ_BYTES);
    let got = await readFully(fh, head, 0);
    const headerLength = announcedHeaderLength(head.subarray(0, got));
    let headerBuf = head.subarray(0, got);
    if (headerLength !== undefined && headerLength > got) {
      headerBuf = Buffer.allocUnsafe(headerLength);
      got = await readFully(fh, headerBuf, 0);
    }
    const header = headerLength === undefined ? undefined : decodeHeader(headerBuf.subarray(0, Math.min(got, headerLength)));
    if (!header || header.encodedKey !== key || size !== header.headerLength + header.payloadLength) {
      return await this.#corruptFound(key, e, 'bad header, foreign key or wrong length');
    }
    if (header.payloadLength !== target.byteLength) return false;
    const read = await readFully(fh, target, header.headerLength);
    if (read !== target.byteLength || !payloadMatches(target, header.payloadCrc)) {
      return await this.#corruptFound(key, e, read !== target.byteLength ? 'truncated' : 'payload checksum mismatch');
    }
    return layoutJson === undefined || header.layoutJson === layoutJson;
  }

  #loadFailed(key: EncodedKey, e: FileEntry, err: unknown): false {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // Removed behind our back: forget it.
      if (this.#index.get(key) === e) this.#index.delete(key);
      return false;
    }
    if (log.enabled) log('load of %s failed: %s', key, String(err));
    return false;
  }

  async #corruptFound(key: EncodedKey, e: FileEntry, why: string): Promise<false> {
    this.#counts.corrupt++;
    if (log.enabled) log('corrupt object %s (%s): deleted', e.file, why);
    if (this.#index.get(key) === e) this.#index.delete(key);
    await removeFile(e.file);
    return false;
  }

  #pathFor(key: EncodedKey): { dir: string; file: string } {
    const hash = createHash('sha256').update(key).digest('hex');
    const dir = join(this.options.path, hash.slice(0, 2));
    return { dir, file: join(dir, hash + OBJECT_SUFFIX) };
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#dirs.add(dir);
  }

  async #rebuild(): Promise<void> {
    await mkdir(this.options.path, { recursive: true });
    const shards = (await readdir(this.options.path, { withFileTypes: true })).filter((d) => d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name));
    const found: { key: EncodedKey; entry: FileEntry; mtime: number }[] = [];
    const io = new Semaphore(32);
    await Promise.all(
      shards.map(async (shard) => {
        const dir = join(this.options.path, shard.name);
        this.#dirs.add(dir);
        const names = await readdir(dir);
        await Promise.all(
          names.map((name) =>
            io.run(async () => {
              const file = join(dir, name);
              if (name.endsWith(TEMP_SUFFIX)) return removeFile(file); // an interrupted write
              if (!name.endsWith(OBJECT_SUFFIX)) return;
              const scanned = await scanHeader(file);
              if (!scanned || this.#pathFor(scanned.key).file !== file) {
                this.#counts.corrupt++;
                if (log.enabled) log('corrupt object %s found on open: deleted', file);
                return removeFile(file);
              }
              found.push({ key: scanned.key, entry: { size: scanned.size, pins: 0, file, payloadLength: scanned.payloadLength }, mtime: scanned.mtime });
            }),
          ),
        );
      }),
    );
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) this.#index.set(f.key, f.entry);
    // A smaller budget than last time: evict down to it.
    const victims = this.#index.victims(0, this.options.capacityBytes) ?? [];
    for (const [k, e] of victims) {
      this.#index.delete(k);
      this.#counts.evicted++;
      await removeFile(e.file);
    }
    if (log.enabled) log('opened %s: %d objects, %d bytes', this.options.path, this.#index.size, this.#index.usedBytes);
  }
}

async function scanHeader(file: string): Promise<{ key: EncodedKey; size: number; payloadLength: number; mtime: number } | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, 'r');
    const st = await fh.stat();
    let buf = Buffer.allocUnsafe(HEADER_READ_BYTES);
    let got = await readFully(fh, buf, 0);
    const n = announcedHeaderLength(buf.subarray(0, got));
    if (n === undefined) return undefined;
    if (n > got) {
      buf = Buffer.allocUnsafe(n);
      got = await readFully(fh, buf, 0);
      if (got < n) return undefined;
    }
    const h = decodeHeader(buf.subarray(0, n));
    if (!h || st.size !== h.headerLength + h.payloadLength) return undefined;
    return { key: h.encodedKey as EncodedKey, size: st.size, payloadLength: h.payloadLength, mtime: st.mtimeMs };
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Reads from offset 0 into `bufs` with one readv; when that reads short (large objects, some
 * platforms) it finishes every buffer but the last. The last only detects a longer file, so it is
 * not chased: a readv that stops right before it is taken as the end of the file (chasing it would
 * cost every load a round trip; the crc32s still guard the data). Returns the bytes read.
 */
async function readvFully(fh: FileHandle, bufs: Uint8Array[]): Promise<number> {
  let { bytesRead: done } = await fh.readv(bufs, 0);
  let start = 0;
  for (let i = 0; i < bufs.length - 1; i++) {
    const b = bufs[i]!;
    const end = start + b.byteLength;
    if (done < end) {
      done += await readFully(fh, b.subarray(done - start), done);
      if (done < end) break;
    }
    start = end;
  }
  return done;
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, done, buf.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeAll(fh: FileHandle, header: Buffer, payload: Uint8Array): Promise<void> {
  const total = header.length + payload.byteLength;
  let { bytesWritten } = await fh.writev([header, payload], 0);
  // writev may write short on some platforms; finish with plain writes.
  while (bytesWritten < total) {
    const chunk = bytesWritten < header.length ? header.subarray(bytesWritten) : payload.subarray(bytesWritten - header.length);
    const r = await fh.write(chunk, 0, chunk.byteLength, bytesWritten);
    if (r.bytesWritten === 0) throw new Error('short write');
    bytesWritten += r.bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeFile(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}




