import { fstatSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Xxh3Hasher } from '../checksum/xxh3.js';
import type { PayloadVerifier } from './file-io.js';
import { sameStamp, settledBefore, stampOf, type FileStamp } from './file-stamp.js';
import type { FsVerifyPolicy } from './fs-options.js';

/**
 * The payload policy of one load (see FsL2AdapterOptions.verify). With 'once', the file's fstat
 * taken after the read either matches the stamp of the object's last verification (the hash is
 * skipped), or the payload is hashed and the stamp renewed, if the file has settled (see
 * file-stamp.ts). The fstat is synchronous: on an open descriptor it reads the in-memory inode
 * (about a microsecond), where an asynchronous one would cost a thread-pool round trip per load.
 * `readStart` is the wall clock taken before the file was opened.
 */
export function loadVerifier(
  policy: FsVerifyPolicy,
  hasher: Xxh3Hasher,
  fh: FileHandle,
  entry: { stamp?: FileStamp | undefined },
  readStart: number,
  onVerified: () => void,
): PayloadVerifier {
  if (policy === 'always') {
    return { hasher, unchanged: () => false, verified: onVerified };
  }
  let st: Stats | undefined;
  return {
    hasher,
    unchanged: () => {
      st = fstatSync(fh.fd);
      return entry.stamp !== undefined && sameStamp(entry.stamp, st);
    },
    verified: () => {
      onVerified();
      if (st === undefined) return;
      const stamp = stampOf(st);
      entry.stamp = settledBefore(stamp, readStart) ? stamp : undefined;
    },
  };
}
