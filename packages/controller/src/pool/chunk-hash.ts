import { InvalidArgumentError, type ChunkHash } from '@tierkv/core';

/** Writes 16-hex-char chunk hashes as 8 big-endian bytes each (the wire form). */
export function hashesToBytes(hashes: readonly ChunkHash[]): Buffer {
  const out = Buffer.allocUnsafe(hashes.length * 8);
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i]!;
    if (h.length !== 16 || out.write(h, i * 8, 8, 'hex') !== 8) {
      throw new InvalidArgumentError('hashes', `entry ${i} is ${JSON.stringify(h)}; expected 16 lowercase hex characters (a TokenHasher chunk hash)`);
    }
  }
  return out;
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
