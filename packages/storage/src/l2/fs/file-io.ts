import { open, unlink, type FileHandle } from 'node:fs/promises';
import type { EncodedKey } from '@tierkv/core';
import { announcedHeaderLength, decodeHeader } from './object-file.js';

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
 * cost every load a round trip; the crc32s still guard the data). Returns the bytes read.
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
