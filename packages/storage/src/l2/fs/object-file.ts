import { crc32 } from 'node:zlib';
import { digestEquals, XXH3_DIGEST_BYTES, type Xxh3Hasher } from '../checksum/xxh3.js';

/**
 * The on-disk format of one object: a fixed prefix, the encoded key and the layout JSON, then the
 * payload. Version 2 (written since the XXH3 change), a 40-byte prefix:
 *
 *   0  magic "TKVO"      4  format version (u16, 2)   6  payload hash algorithm (u16, see below)
 *   8  header length     12 key length                16 layout length
 *   20 payload length (u32 low, u32 high)
 *   28 payload hash, 8 bytes: XXH3-64 canonical (big-endian) digest
 *   36 header crc32 (of bytes 0..35, the key and the layout)
 *
 * Version 1 (read, verified, never written): a 36-byte prefix, no algorithm field, the payload's
 * crc32 at 28 and the header crc32 (of bytes 0..31, key, layout) at 32.
 *
 * XXH3-64 is not cryptographic: like crc32 before it, it catches torn writes, flipped bits and
 * foreign bytes (a random change goes unnoticed with probability 2^-64), not an adversary who can
 * write the directory. The header keeps zlib's crc32: it covers a few hundred bytes.
 */
export const MAGIC = 0x4f56_4b54; // "TKVO" little-endian
export const FORMAT_VERSION = 2;
export const PREFIX_BYTES = 40;
const V1_PREFIX_BYTES = 36;
const MAX_HEADER_BYTES = 1 << 20;

/** The payload hash algorithms a header can name (its u16 at offset 6 in version 2). */
export const PAYLOAD_HASH = Object.freeze({ crc32: 1, xxh3_64: 2 });

export interface ObjectHeader {
  readonly version: 1 | 2;
  readonly headerLength: number;
  readonly encodedKey: string;
  readonly layoutJson: string;
  readonly payloadLength: number;
  /** The header bytes; the payload hash sits at offset 28 (8 bytes of XXH3, or a crc32 u32 LE in version 1). */
  readonly bytes: Buffer;
  readonly algorithm: number;
}

/** The header bytes (format version 2) for a payload, its XXH3 computed by `hasher`. */
export function encodeHeader(encodedKey: string, layoutJson: string, payload: Uint8Array, hasher: Xxh3Hasher): Buffer {
  const key = Buffer.from(encodedKey, 'utf8');
  const layout = Buffer.from(layoutJson, 'utf8');
  const headerLength = PREFIX_BYTES + key.length + layout.length;
  const buf = Buffer.allocUnsafe(headerLength);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 4);
  buf.writeUInt16LE(PAYLOAD_HASH.xxh3_64, 6);
  buf.writeUInt32LE(headerLength, 8);
  buf.writeUInt32LE(key.length, 12);
  buf.writeUInt32LE(layout.length, 16);
  buf.writeUInt32LE(payload.byteLength % 2 ** 32, 20);
  buf.writeUInt32LE(Math.floor(payload.byteLength / 2 ** 32), 24);
  buf.set(hasher.digest(payload), 28);
  key.copy(buf, PREFIX_BYTES);
  layout.copy(buf, PREFIX_BYTES + key.length);
  buf.writeUInt32LE(headerCrc(buf, headerLength, 36), 36);
  return buf;
}

/** crc32 of the fixed prefix up to its own field (at `crcAt`), then of the key and layout. */
function headerCrc(buf: Buffer, headerLength: number, crcAt: number): number {
  const prefix = crcAt + 4;
  return crc32(buf.subarray(prefix, headerLength), crc32(buf.subarray(0, crcAt)));
}

function prefixBytesOf(version: number): number | undefined {
  return version === FORMAT_VERSION ? PREFIX_BYTES : version === 1 ? V1_PREFIX_BYTES : undefined;
}

/** The header length announced by a prefix, or undefined when the prefix is not ours. */
export function announcedHeaderLength(prefix: Buffer): number | undefined {
  if (prefix.length < 8 || prefix.readUInt32LE(0) !== MAGIC) return undefined;
  const fixed = prefixBytesOf(prefix.readUInt16LE(4));
  if (fixed === undefined || prefix.length < fixed) return undefined;
  const n = prefix.readUInt32LE(8);
  return n >= fixed && n <= MAX_HEADER_BYTES ? n : undefined;
}

/** Parses and verifies a whole header (either version); undefined when anything is off (a corrupt object). */
export function decodeHeader(buf: Buffer): ObjectHeader | undefined {
  const headerLength = announcedHeaderLength(buf);
  if (headerLength === undefined || buf.length < headerLength) return undefined;
  const version = buf.readUInt16LE(4) as 1 | 2;
  const fixed = version === 1 ? V1_PREFIX_BYTES : PREFIX_BYTES;
  const algorithm = version === 1 ? PAYLOAD_HASH.crc32 : buf.readUInt16LE(6);
  if (algorithm !== PAYLOAD_HASH.crc32 && algorithm !== PAYLOAD_HASH.xxh3_64) return undefined;
  const keyLength = buf.readUInt32LE(12);
  const layoutLength = buf.readUInt32LE(16);
  if (fixed + keyLength + layoutLength !== headerLength) return undefined;
  const crcAt = fixed - 4;
  if (headerCrc(buf, headerLength, crcAt) !== buf.readUInt32LE(crcAt)) return undefined;
  const payloadLength = buf.readUInt32LE(20) + buf.readUInt32LE(24) * 2 ** 32;
  if (!Number.isSafeInteger(payloadLength)) return undefined;
  return {
    version,
    headerLength,
    encodedKey: buf.toString('utf8', fixed, fixed + keyLength),
    layoutJson: buf.toString('utf8', fixed + keyLength, headerLength),
    payloadLength,
    bytes: buf,
    algorithm,
  };
}

/** Whether `payload` hashes to what `header` recorded, with the algorithm it names. */
export function payloadMatches(payload: Uint8Array, header: ObjectHeader, hasher: Xxh3Hasher): boolean {
  if (header.algorithm === PAYLOAD_HASH.crc32) {
    return crc32(payload) === header.bytes.readUInt32LE(28);
  }
  return header.bytes.length >= 28 + XXH3_DIGEST_BYTES && digestEquals(hasher.digest(payload), header.bytes, 28);
}
