import { InvalidArgumentError, type ChunkHash } from '@tierkv/core';

/**
 * Writes 16-hex-char chunk hashes as 8 big-endian bytes each (the wire form). One hex decode of
 * the joined string: a `Buffer.write` per hash costs ~15× more for a 1000-chunk request. The
 * decoder stops at the first character that is not hex, so a short result means a bad entry.
 */
export function hashesToBytes(hashes: readonly ChunkHash[]): Buffer {
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i];
    if (typeof h !== 'string' || h.length !== 16) throw badHash(hashes, i);
  }
  const out = Buffer.from(hashes.join(''), 'hex');
  if (out.length !== hashes.length * 8) throw badHash(hashes, Math.floor(out.length / 8));
  return out;
}

function badHash(hashes: readonly unknown[], i: number): InvalidArgumentError {
  return new InvalidArgumentError('hashes', `entry ${i} is ${String(JSON.stringify(hashes[i])).slice(0, 40)}; expected 16 lowercase hex characters (a TokenHasher chunk hash)`);
}

/** The inverse of hashesToBytes. */
export function bytesToHashes(bytes: Uint8Array): ChunkHash[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ChunkHash[] = new Array(buf.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = buf.toString('hex', i * 8, i * 8 + 8);
  return out;
}

/** A DataView over a hash byte run, for reading (hi, lo) pairs without copies. */
export function hashView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
