import { hashesToBytes } from './chunk-hash.js';
import { mixHash } from './chunk-set.js';

/**
 * The chunk hashes of one request as parallel arrays: unsigned (hi, lo) halves and each hash's
 * `mixHash`, computed once per request rather than once per set a lookup probes.
 */
export interface HashRun {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly mix: Uint32Array;
}

function allocRun(n: number): HashRun {
  // One buffer for the three arrays: one allocation per request instead of three.
  const all = new Uint32Array(n * 3);
  return { hi: all.subarray(0, n), lo: all.subarray(n, 2 * n), mix: all.subarray(2 * n) };
}

/** From 8-byte big-endian hashes (the wire form). */
export function hashRunFromBytes(bytes: Uint8Array): HashRun {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength >>> 3;
  const run = allocRun(n);
  const { hi, lo, mix } = run;
  for (let i = 0; i < n; i++) {
    const h = view.getUint32(i * 8);
    const l = view.getUint32(i * 8 + 4);
    hi[i] = h;
    lo[i] = l;
    mix[i] = mixHash(h, l);
  }
  return run;
}

/** From 16-hex-char chunk hashes (a TokenHasher's form); a malformed hash is refused. */
export function hashRunFromHex(hashes: readonly string[]): HashRun {
  return hashRunFromBytes(hashesToBytes(hashes));
}
