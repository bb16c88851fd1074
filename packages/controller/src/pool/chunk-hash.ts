import { endianness } from 'node:os';
import { InvalidArgumentError, type ChunkHash } from '@tierkv/core';

/**
 * Chunk hashes in order, as a caller may hold them: 16-hex-char strings (a TokenHasher's form),
 * 8 big-endian bytes per hash in one `Uint8Array` (the wire form, what `hashesToBytes` gives), or
 * one hash value per element of a `BigUint64Array`.
 */
export type ChunkHashes = readonly ChunkHash[] | Uint8Array | BigUint64Array;

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Any ChunkHashes as the wire form. Bytes are taken as they are (a view, no copy), so a caller
 * that holds them skips the hex decode; a BigUint64Array is copied and put in big-endian order.
 */
export function hashBytes(hashes: ChunkHashes): Uint8Array {
  if (hashes instanceof Uint8Array) {
    if (hashes.byteLength % 8 !== 0) throw new InvalidArgumentError('hashes', `got ${hashes.byteLength} bytes; binary chunk hashes are 8 bytes each (big-endian), so the length must be a multiple of 8`);
    return hashes;
  }
  if (hashes instanceof BigUint64Array) {
    const out = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    return LITTLE_ENDIAN ? Buffer.from(out).swap64() : Buffer.from(out);
  }
  if (!Array.isArray(hashes)) {
    const what = ArrayBuffer.isView(hashes) ? (hashes as object).constructor.name : typeof hashes;
    throw new InvalidArgumentError('hashes', `got ${what}; expected an array of 16-hex-char chunk hashes, a Uint8Array of 8 bytes per hash, or a BigUint64Array`);
  }
  return hashesToBytes(hashes);
}

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
