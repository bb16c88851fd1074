import { fstatSync, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Xxh3Hasher } from '../checksum/xxh3.js';
import type { PayloadVerifier } from './file-io.js';
import { sameStamp, settledBefore, stampOf, type FileStamp } from './file-stamp.js';
import type { FsVerifyPolicy } from './fs-options.js';

/**
 * The payload policy of one load (see FsL2AdapterOptions.verify). The file's fstat, taken after
 * the read, first tells whether the file still has a link (a cached handle may outlive a file
 * removed or renamed over behind the adapter's back). With 'once' it then either matches the
 * stamp of the object's last verification (the hash is skipped), or the payload is hashed and the
 * stamp renewed if the file has settled (see file-stamp.ts). The fstat is synchronous: on an open
 * descriptor it reads the in-memory inode (about a microsecond), where an asynchronous one would
 * cost a thread-pool round trip per load. `readStart` is the wall clock taken before the read.
 */
export function loadVerifier(
  policy: FsVerifyPolicy,
  hasher: Xxh3Hasher,
  fh: FileHandle,
  entry: { stamp?: FileStamp | undefined },
  readStart: number,
  onVerified: () => void,
): PayloadVerifier {
  let st: Stats | undefined;
  return {
    hasher,
    afterRead: () => {
      st = fstatSync(fh.fd);
      if (st.nlink === 0) return 'gone';
      return policy === 'once' && entry.stamp !== undefined && sameStamp(entry.stamp, st) ? 'trusted' : 'verify';
    },
    verified: () => {
      onVerified();
      if (policy !== 'once' || st === undefined) return;
      const stamp = stampOf(st);
      entry.stamp = settledBefore(stamp, readStart) ? stamp : undefined;
    },
  };
}
