import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ClosedError, debugLogger, encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { L2Adapter, L2StoreItem, L2Usage } from '../l2-adapter.js';
import { classifyError, type L2FailureReason, type L2FailureReasons } from '../l2-failure.js';
import { L2AdapterCounts } from '../l2-metrics.js';
import { LruIndex } from '../lru-index.js';
import { Semaphore } from '../semaphore.js';
import { WarnLimiter } from '../warn-limiter.js';
import { DirLock } from './dir-lock.js';
import { loadXxh3, type Xxh3Hasher } from '../checksum/xxh3.js';
import { flipByte, readObject, removeFile } from './file-io.js';
import type { FileStamp } from './file-stamp.js';
import { loadVerifier } from './load-verifier.js';
import { ObjectDir } from './object-dir.js';
import { OpenFiles } from './open-files.js';
import { PerKeyQueue } from './per-key-queue.js';
import { NODE_FS_OPS, type FsL2TestSeams } from './fs-ops.js';
import { SpaceBudget } from './fs-space.js';
import { encodeHeader } from './object-file.js';
import { resolveFsL2Options, type FsL2AdapterOptions, type ResolvedFsL2AdapterOptions } from './fs-options.js';

export { DEFAULT_FS_L2_OPTIONS } from './fs-options.js';

const log = debugLogger('tierkv:l2-fs');
/** A load's answer: true, or why not. */
type LoadOutcome = true | L2FailureReason;

interface FileEntry {
  size: number;
  pins: number;
  readonly file: string;
  readonly payloadLength: number;
  /** The file as it was when its payload last verified in this process (verify: 'once'). */
  stamp?: FileStamp | undefined;
}

/**
 * The embedded L2 tier: one file per object under a directory.
 *
 * - Files are named by a sha256 of the key in 256 shard directories, and written aside then renamed
 *   into place, optionally fsynced (ObjectDir). The header repeats the key, so a hash collision is
 *   a miss, not someone else's data.
 * - Every object carries a crc32 of its header and an XXH3-64 of its payload (format version 2;
 *   version-1 files, crc32 of the payload, still load and verify). A corrupt or truncated file is a
 *   miss, counted in `tierkv.l2.corrupt`, and deleted; its bytes are never handed out as data.
 * - `verify: 'once'` (the default) hashes a payload on its first load and again after its file
 *   changes; an unchanged file (same inode, size, mtime and ctime, one fstat) is trusted. See
 *   file-stamp.ts for why the times can vouch for the bytes.
 * - `open()` rebuilds the index by reading every header, so objects survive a restart (in
 *   modification-time order for LRU). Leftover temporary files are removed.
 * - A byte budget with LRU eviction by access; pinned objects are neither evicted nor deleted.
 * - It heals: a write that finds its shard directory (or the root) removed recreates it and retries
 *   once; a write that hits ENOSPC lowers the budget to what the disk holds (SpaceBudget), evicts
 *   to make room and retries once, and the budget grows back as free space returns.
 * - Failed keys carry a reason (L2FailureReason) for `tierkv.l2.failures`, and failures and healing
 *   are warned about (errno code and directory) at most once per reason per 30 s.
 * - At most `maxConcurrentOps` object reads or writes are in flight; up to `maxOpenFiles` read
 *   handles of recently loaded files stay open (OpenFiles), so a repeated load is a single read.
 * - One open adapter per directory: `open()` takes a lock file (see DirLock), `close()` drops it.
 */
export class FsL2Adapter implements L2Adapter {
  readonly name: string;
  readonly options: ResolvedFsL2AdapterOptions;
  readonly #index = new LruIndex<FileEntry>();
  readonly #io: Semaphore;
  readonly #objects: ObjectDir;
  readonly #pending = new Set<Promise<unknown>>();
  // Stores and deletes of one key run one after another (see PerKeyQueue).
  readonly #perKey = new PerKeyQueue<EncodedKey>();
  readonly #counts: L2AdapterCounts;
  readonly #space: SpaceBudget;
  readonly #warnings: WarnLimiter;
  readonly #wallClock: () => number;
  readonly #files: OpenFiles<FileEntry>;
  #hasher!: Xxh3Hasher;
  #verifiedPayloads = 0;
  readonly #onVerified = (): void => void this.#verifiedPayloads++;
  #lock: DirLock | undefined;
  #closed = false;

  private constructor(options: ResolvedFsL2AdapterOptions, seams: FsL2TestSeams) {
    this.options = options;
    this.name = options.name;
    this.#io = new Semaphore(options.maxConcurrentOps);
    this.#counts = new L2AdapterCounts(this.name, options.telemetry);
    const ops = seams.fsOps ?? NODE_FS_OPS;
    this.#objects = new ObjectDir(options.path, ops, options.fsync);
    const now = seams.now ?? (() => performance.now());
    this.#space = new SpaceBudget(options.capacityBytes, options.path, ops, now, seams.spaceCheckIntervalMs ?? 5000);
    this.#warnings = new WarnLimiter(options.warn, seams.warnIntervalMs ?? 30_000, now);
    this.#wallClock = seams.wallClock ?? Date.now;
    this.#files = new OpenFiles<FileEntry>(options.maxOpenFiles, (e) => ops.open(e.file, 'r'));
  }

  /**
   * Opens (creating if needed) the directory, takes its lock (ConfigError if another live adapter
   * or process has it open; a dead owner's lock is taken over) and rebuilds the index from the
   * object headers there. `seams` is for unit tests only (fault injection, clocks).
   */
  static async open(options: FsL2AdapterOptions, seams: FsL2TestSeams = {}): Promise<FsL2Adapter> {
    const resolved = resolveFsL2Options(options);
    const hasher = await loadXxh3();
    const lock = await DirLock.acquire(resolved.path, seams.lockRefreshMs === undefined ? {} : { refreshMs: seams.lockRefreshMs });
    const adapter = new FsL2Adapter(resolved, seams);
    adapter.#hasher = hasher;
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

  /** Loads whose payload was hashed since open (with verify: 'once', the others were trusted unchanged files). */
  get verifiedPayloads(): number {
    return this.#verifiedPayloads;
  }

  /** Which XXH3 this adapter hashes with: the native addon, or the WebAssembly fallback. */
  get hashImplementation(): Xxh3Hasher['implementation'] {
    return this.#hasher.implementation;
  }

  /** Objects evicted for the budget since open (also exported as `tierkv.l2.evicted`). */
  get evictedObjects(): number {
    return this.#counts.evicted;
  }

  /** The budget configured (usage().capacityBytes is the one in effect, lower after ENOSPC). */
  get configuredCapacityBytes(): number {
    return this.#space.configured;
  }

  store(items: readonly L2StoreItem[], reasons?: L2FailureReasons): Promise<boolean[]> {
    return this.#track('store', () => answerEach(items, reasons, (item) => this.#perKey.run(encodeKey(item.key), () => this.#io.run(() => this.#storeOne(item)))));
  }

  lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    return this.#track('lookupAndLock', async () => keys.map((k) => this.#index.pin(encodeKey(k))));
  }

  load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout, reasons?: L2FailureReasons): Promise<boolean[]> {
    const layoutJson = layout === undefined ? undefined : JSON.stringify(layout.toJSON());
    return this.#track('load', () => answerEach(keys, reasons, (k, i) => this.#io.run(() => this.#loadOne(k, targets[i], layoutJson))));
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
          this.#perKey.run(encodeKey(k), async () => {
            const e = this.#index.deleteUnpinned(encodeKey(k));
            if (!e) return false;
            this.#files.retire(e);
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
      for (const [, e] of victims) this.#files.retire(e);
      await Promise.all(victims.map(([, e]) => this.#io.run(() => removeFile(e.file))));
      return victims.length;
    });
  }

  usage(): L2Usage {
    return { usedBytes: this.#index.usedBytes, capacityBytes: this.#space.capacity, objects: this.#index.size };
  }

  /** Pins currently held on `key` (diagnostics and tests). */
  pinsOf(key: ObjectKey): number {
    return this.#index.pinsOf(encodeKey(key));
  }

  /** The file that holds `key` (tests use it to damage objects on purpose). */
  fileOf(key: ObjectKey): string {
    return this.#objects.pathFor(encodeKey(key)).file;
  }

  /**
   * Test hook (used by FaultyL2Adapter): flips one payload byte of the stored file, below the
   * checksum, so the next load must detect it. Returns false when the key is absent.
   */
  async corruptStoredObject(key: ObjectKey, byteIndex = 0): Promise<boolean> {
    const e = this.#index.get(encodeKey(key));
    if (!e || e.payloadLength === 0) return false;
    return flipByte(e.file, e.size - e.payloadLength + (Math.abs(Math.trunc(byteIndex)) % e.payloadLength));
  }

  bindTelemetry(telemetry: TelemetryOptions): void {
    this.#counts.bindTelemetry(telemetry);
  }

  /** Refreshes the directory lock now (a timer does it every few seconds; see DirLock). */
  refreshLock(): Promise<void> {
    return this.#lock?.refresh() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#files.closeAll();
    this.#counts.close();
    await this.#lock?.release();
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

  async #storeOne(item: L2StoreItem): Promise<LoadOutcome> {
    const key = encodeKey(item.key);
    const path = this.#objects.pathFor(key);
    let header: Buffer;
    try {
      header = encodeHeader(key, JSON.stringify(item.layout.toJSON()), item.data, this.#hasher);
    } catch (err) {
      if (log.enabled) log('cannot encode object %s: %s', key, String(err));
      return 'other';
    }
    const size = header.length + item.data.byteLength;
    await this.#space.recheck(() => this.#index.usedBytes);
    // Make room before writing; the replaced object of the same key counts as freed.
    if (!(await this.#makeRoom(key, size, false))) return 'no_space';
    this.#index.reserve(size);
    let err = await this.#objects.write(path, header, item.data);
    this.#index.unreserve(size);
    // One retry after healing what the error says is wrong (a vanished directory, a full disk).
    if (err !== undefined && (await this.#heal(err, key, size, path.dir))) {
      this.#index.reserve(size);
      err = await this.#objects.write(path, header, item.data);
      this.#index.unreserve(size);
    }
    if (err !== undefined) return this.#failed('store', err, path.dir, key);
    const current = this.#index.get(key);
    this.#index.set(key, { size, pins: current?.pins ?? 0, file: path.file, payloadLength: item.data.byteLength });
    if (current) this.#files.retire(current);
    return true;
  }

  /**
   * Evicts the coldest unpinned objects until `size` more bytes fit the budget in effect; false
   * when they cannot. `wait`: the files are gone before it resolves (after ENOSPC the disk needs
   * the space now), else they are removed in the background.
   */
  async #makeRoom(key: EncodedKey, size: number, wait: boolean): Promise<boolean> {
    const cap = this.#space.capacity;
    if (size > cap) return false;
    const victims = this.#index.victims(size - (this.#index.get(key)?.size ?? 0), cap, key);
    if (!victims) return false;
    for (const [k, e] of victims) {
      this.#index.delete(k);
      this.#files.retire(e);
      this.#counts.evicted++;
    }
    const removed = Promise.all(victims.map(([, e]) => removeFile(e.file)));
    if (wait) await removed;
    return true;
  }

  /** Repairs what a failed write's error points at; true when a retry may now succeed. */
  async #heal(err: unknown, key: EncodedKey, size: number, dir: string): Promise<boolean> {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // The shard directory (or the whole root) was removed under us: recreate it.
      if (!(await this.#objects.recreate(dir))) return false;
      this.#warnings.warn('missing_dir', () => `tierkv fs L2 "${this.name}": directory ${dir} had vanished (${code}); recreated it`);
      await this.#lock?.refresh(); // the lock file goes with a removed root
      return true;
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      this.#space.noSpace(this.#index.usedBytes);
      const evictedBefore = this.#counts.evicted;
      const room = await this.#makeRoom(key, size, true);
      this.#warnings.warn(
        'no_space',
        () =>
          `tierkv fs L2 "${this.name}": ${code} writing in ${dir}: budget lowered to ${this.#space.capacity} of ${this.#space.configured} bytes ` +
          `(evicted ${this.#counts.evicted - evictedBefore} objects); it grows back as space is freed`,
      );
      return room;
    }
    return false;
  }

  /** The reason of a failed key, warned about (errno code and directory) once per reason per interval. */
  #failed(operation: 'store' | 'load', err: unknown, dir: string, key: EncodedKey): L2FailureReason {
    const reason = classifyError(err, 'io');
    const code = (err as NodeJS.ErrnoException | null)?.code ?? 'no errno code';
    this.#warnings.warn(reason, () => `tierkv fs L2 "${this.name}": ${operation} failed (${reason}): ${code} in ${dir}`);
    if (log.enabled) log('%s of %s failed: %s', operation, key, String(err));
    return reason;
  }

  /** Reads and verifies one object (readObject); a corrupt one is counted and deleted. */
  async #loadOne(k: ObjectKey, target: Uint8Array | undefined, layoutJson: string | undefined): Promise<LoadOutcome> {
    const key = encodeKey(k);
    const e = this.#index.touch(key);
    if (!e || !target) return 'miss';
    if (target.byteLength !== e.payloadLength) return 'miss'; // wrong-size target: a miss, the object is fine
    let fh: FileHandle | undefined;
    let keep = false;
    // Taken before the read: a verification vouches for the file only if its last change came a
    // margin before this instant (see file-stamp.ts).
    const readStart = this.#wallClock();
    try {
      fh = await this.#files.acquire(e);
      const verdict = await readObject(fh, e, key, target, layoutJson, loadVerifier(this.options.verify, this.#hasher, fh, e, readStart, this.#onVerified));
      if (typeof verdict === 'object') return await this.#corruptFound(key, e, verdict.corrupt);
      if (verdict === 'gone') return this.#forget(key, e);
      keep = true;
      return verdict;
    } catch (err) {
      return this.#loadFailed(key, e, err);
    } finally {
      if (fh) this.#files.release(e, fh, keep);
    }
  }

  /** The object's file was removed (or replaced) behind the adapter's back: a miss, and forgotten. */
  #forget(key: EncodedKey, e: FileEntry): 'miss' {
    if (this.#index.get(key) === e) this.#index.delete(key);
    this.#files.retire(e);
    return 'miss';
  }

  #loadFailed(key: EncodedKey, e: FileEntry, err: unknown): L2FailureReason {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.#forget(key, e); // removed behind our back
    return this.#failed('load', err, dirname(e.file), key);
  }

  async #corruptFound(key: EncodedKey, e: FileEntry, why: string): Promise<'corrupt'> {
    this.#counts.corrupt++;
    if (log.enabled) log('corrupt object %s (%s): deleted', e.file, why);
    this.#forget(key, e);
    await removeFile(e.file);
    return 'corrupt';
  }

  async #rebuild(): Promise<void> {
    const found = await this.#objects.scan((file) => {
      this.#counts.corrupt++;
      if (log.enabled) log('corrupt object %s found on open: deleted', file);
    });
    for (const f of found) this.#index.set(f.key, { size: f.size, pins: 0, file: f.file, payloadLength: f.payloadLength });
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

/** Runs `one` on every item at once: true per item that succeeded, and why not in `reasons`. */
async function answerEach<T>(items: readonly T[], reasons: L2FailureReasons | undefined, one: (item: T, i: number) => Promise<LoadOutcome>): Promise<boolean[]> {
  const outcomes = await Promise.all(items.map(one));
  return outcomes.map((outcome, i) => {
    if (outcome !== true && reasons) reasons[i] = outcome;
    return outcome === true;
  });
}
