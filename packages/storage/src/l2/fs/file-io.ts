import { open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Semaphore } from '../semaphore.js';
import type { EncodedKey } from '@tierkv/core';
import type { Xxh3Hasher } from '../checksum/xxh3.js';
import type { FsOps } from './fs-ops.js';
import { announcedHeaderLength, decodeHeader, payloadMatches } from './object-file.js';

// Enough for any realistic key + layout JSON, so a load usually reads its header in one call.
export const HEADER_READ_BYTES = 1024;

/** The key and sizes of an object file, from its verified header; undefined when it is not a sound object. */
export async function scanHeader(file: string): Promise<{ key: EncodedKey; size: number; payloadLength: number; mtime: number } | undefined> {
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
 * cost every load a round trip; the checksums still guard the data). Returns the bytes read.
 */
export async function readvFully(fh: FileHandle, bufs: Uint8Array[]): Promise<number> {
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
export async function readFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, done, buf.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

export async function writeAll(fh: FileHandle, header: Buffer, payload: Uint8Array): Promise<void> {
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

/**
 * Writes header and payload to `tmp` (fsynced when asked), renames it to `file` (then syncs `dir`
 * when asked): readers see the old object or the new one, never half of one. Resolves with the
 * error, or undefined on success; a failed write leaves no temporary file behind.
 */
export async function writeObjectFile(ops: FsOps, dir: string, file: string, tmp: string, header: Buffer, data: Uint8Array, fsync: boolean): Promise<unknown> {
  let fh: FileHandle | undefined;
  try {
    fh = await ops.open(tmp, 'w');
    await writeAll(fh, header, data);
    if (fsync) await fh.sync();
    await fh.close();
    fh = undefined;
    await ops.rename(tmp, file);
    if (fsync) await syncDir(dir);
    return undefined;
  } catch (err) {
    if (fh) await fh.close().catch(() => undefined);
    await removeFile(tmp);
    return err ?? new Error('write failed');
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function removeFile(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

/**
 * What readObject concluded: true, a miss (the object is fine), gone (the file was unlinked
 * behind the adapter's back: removed, or replaced by a rename), or corrupt and why.
 */
export type ReadVerdict = true | 'miss' | 'gone' | { corrupt: string };

/** How a load decides whether its payload must be hashed (the adapter's `verify` policy). */
export interface PayloadVerifier {
  readonly hasher: Xxh3Hasher;
  /**
   * Asked after the read: `gone` when the file has no link left (removed or renamed over), `trusted`
   * when it is known unchanged since its payload last verified, else `verify`.
   */
  afterRead(): 'gone' | 'trusted' | 'verify';
  /** Told when the payload just verified on the fast path (the adapter may then remember the file). */
  verified(): void;
}

/**
 * The hot path: the index knows the file's header length (size - payload), so header and payload
 * come in with one readv straight into the target, plus one spare byte that must stay unread (a
 * longer file is not ours); no separate header read. Anything unexpected (another header length, a
 * short or long file, a foreign key) goes to readChecked, which decides from the file alone whether
 * it is corrupt. Before answering true the payload is hashed, unless `verifier` vouches that the
 * file is unchanged since it last verified.
 */
export async function readObject(fh: FileHandle, e: { size: number; payloadLength: number }, key: EncodedKey, target: Uint8Array, layoutJson: string | undefined, verifier: PayloadVerifier): Promise<ReadVerdict> {
  const headerBuf = Buffer.allocUnsafe(e.size - e.payloadLength);
  const spare = Buffer.allocUnsafe(1);
  const got = await readvFully(fh, [headerBuf, target, spare]);
  const header = got === e.size ? decodeHeader(headerBuf) : undefined;
  if (!header || header.headerLength !== headerBuf.length || header.encodedKey !== key || header.payloadLength !== target.byteLength) {
    return readChecked(fh, key, target, layoutJson, verifier.hasher);
  }
  const state = verifier.afterRead();
  if (state === 'gone') return 'gone';
  if (state === 'verify') {
    if (!payloadMatches(target, header, verifier.hasher)) return { corrupt: 'payload checksum mismatch' };
    verifier.verified();
  }
  // Stored with another layout of the same size: a miss (the object is fine and stays).
  return layoutJson === undefined || header.layoutJson === layoutJson || 'miss';
}

/** The slow, self-describing load: header first, then the payload, the file's size from fstat; always hashed. */
async function readChecked(fh: FileHandle, key: EncodedKey, target: Uint8Array, layoutJson: string | undefined, hasher: Xxh3Hasher): Promise<ReadVerdict> {
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
    return { corrupt: 'bad header, foreign key or wrong length' };
  }
  if (header.payloadLength !== target.byteLength) return 'miss';
  const read = await readFully(fh, target, header.headerLength);
  if (read !== target.byteLength || !payloadMatches(target, header, hasher)) {
    return { corrupt: read !== target.byteLength ? 'truncated' : 'payload checksum mismatch' };
  }
  return layoutJson === undefined || header.layoutJson === layoutJson || 'miss';
}

/**
 * The sound objects under `root`'s shard directories, oldest first (modification time, for LRU).
 * Leftover temporary files (interrupted writes) are removed; damaged objects, or objects not in the
 * file their key hashes to, are reported and removed.
 */
export async function scanObjects(
  root: string,
  o: { objectSuffix: string; tempSuffix: string; isHome: (key: EncodedKey, file: string) => boolean; onShard: (dir: string) => void; onCorrupt: (file: string) => void },
): Promise<{ key: EncodedKey; file: string; size: number; payloadLength: number; mtime: number }[]> {
  const shards = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name));
  const found: { key: EncodedKey; file: string; size: number; payloadLength: number; mtime: number }[] = [];
  const io = new Semaphore(32);
  await Promise.all(
    shards.map(async (shard) => {
      const dir = join(root, shard.name);
      o.onShard(dir);
      const names = await readdir(dir);
      await Promise.all(
        names.map((name) =>
          io.run(async () => {
            const file = join(dir, name);
            if (name.endsWith(o.tempSuffix)) return removeFile(file);
            if (!name.endsWith(o.objectSuffix)) return;
            const scanned = await scanHeader(file);
            if (!scanned || !o.isHome(scanned.key, file)) {
              o.onCorrupt(file);
              return removeFile(file);
            }
            found.push({ ...scanned, file });
          }),
        ),
      );
    }),
  );
  return found.sort((a, b) => a.mtime - b.mtime);
}

/** Flips the byte at `offset` of `file` (a test hook's damage); false when the file cannot be opened. */
export async function flipByte(file: string, offset: number): Promise<boolean> {
  const fh = await open(file, 'r+').catch(() => undefined);
  if (!fh) return false;
  try {
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, offset);
    one[0] = one[0]! ^ 0xff;
    await fh.write(one, 0, 1, offset);
    return true;
  } finally {
    await fh.close();
  }
}
