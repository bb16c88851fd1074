import { crc32 } from 'node:zlib';

/**
 * The on-disk format of one object: a fixed 36-byte prefix, the encoded key and the layout JSON,
 * then the payload.
 *
 *   0  magic "TKVO"      4  format version (u16)   6  flags (u16, 0)
 *   8  header length     12 key length             16 layout length
 *   20 payload length (u32 low, u32 high)          28 payload crc32
 *   32 header crc32 (of bytes 0..31, the key and the layout)
 *
 * crc32 (zlib's, native) verifies about 3.5 GB/s on this machine against 1.35 GB/s for sha1 or
 * sha256 and 0.57 GB/s for md5; it detects every burst error up to 32 bits and random damage with
 * probability 1 - 2^-32, which is what a cache tier guarding against torn or flipped bytes needs
 * (it is not a defence against an adversary who can write the directory).
 */
export const MAGIC = 0x4f56_4b54; // "TKVO" little-endian
export const FORMAT_VERSION = 1;
export const PREFIX_BYTES = 36;

export interface ObjectHeader {
  readonly headerLength: number;
  readonly encodedKey: string;
  readonly layoutJson: string;
  readonly payloadLength: number;
  readonly payloadCrc: number;
}

/** The header bytes for a payload. */
export function encodeHeader(encodedKey: string, layoutJson: string, payload: Uint8Array): Buffer {
  const key = Buffer.from(encodedKey, 'utf8');
  const layout = Buffer.from(layoutJson, 'utf8');
  const headerLength = PREFIX_BYTES + key.length + layout.length;
  const buf = Buffer.allocUnsafe(headerLength);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 4);
  buf.writeUInt16LE(0, 6);
  buf.writeUInt32LE(headerLength, 8);
  buf.writeUInt32LE(key.length, 12);
  buf.writeUInt32LE(layout.length, 16);
  buf.writeUInt32LE(payload.byteLength % 2 ** 32, 20);
  buf.writeUInt32LE(Math.floor(payload.byteLength / 2 ** 32), 24);
  buf.writeUInt32LE(crc32(payload), 28);
  key.copy(buf, PREFIX_BYTES);
  layout.copy(buf, PREFIX_BYTES + key.length);
  buf.writeUInt32LE(headerCrc(buf, headerLength), 32);
  return buf;
}

function headerCrc(buf: Buffer, headerLength: number): number {
  return crc32(buf.subarray(PREFIX_BYTES, headerLength), crc32(buf.subarray(0, 32)));
}

/** The header length announced by a prefix, or undefined when the prefix is not ours. */
export function announcedHeaderLength(prefix: Buffer): number | undefined {
  if (prefix.length < PREFIX_BYTES || prefix.readUInt32LE(0) !== MAGIC || prefix.readUInt16LE(4) !== FORMAT_VERSION) return undefined;
  const n = prefix.readUInt32LE(8);
  return n >= PREFIX_BYTES && n <= 1 << 20 ? n : undefined;
}

/** Parses and verifies a whole header; undefined when anything is off (a corrupt object). */
export function decodeHeader(buf: Buffer): ObjectHeader | undefined {
  const headerLength = announcedHeaderLength(buf);
  if (headerLength === undefined || buf.length < headerLength) return undefined;
  const keyLength = buf.readUInt32LE(12);
  const layoutLength = buf.readUInt32LE(16);
  if (PREFIX_BYTES + keyLength + layoutLength !== headerLength) return undefined;
  if (headerCrc(buf, headerLength) !== buf.readUInt32LE(32)) return undefined;
  const payloadLength = buf.readUInt32LE(20) + buf.readUInt32LE(24) * 2 ** 32;
  if (!Number.isSafeInteger(payloadLength)) return undefined;
  return {
    headerLength,
    encodedKey: buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + keyLength),
    layoutJson: buf.toString('utf8', PREFIX_BYTES + keyLength, headerLength),
    payloadLength,
    payloadCrc: buf.readUInt32LE(28),
  };
}

export function payloadMatches(payload: Uint8Array, expectedCrc: number): boolean {
  return crc32(payload) === expectedCrc;
}
