import { crc32 } from 'node:zlib';

/**
 * Every value is `header ‖ payload`, so a truncated, foreign or corrupt value is a miss, never data.
 *
 * | bytes | field |
 * |---|---|
 * | 0-3   | magic `TKVR` |
 * | 4     | format version (1) |
 * | 5     | flags: bit 0 = no payload checksum (written with `checksum: 'none'`) |
 * | 6-7   | header length (24), so a later version can grow it |
 * | 8-15  | payload length, unsigned 64-bit big-endian |
 * | 16-19 | CRC-32 of the payload (0 when flag bit 0 is set) |
 * | 20-23 | CRC-32 of the encoded ObjectKey |
| 24-27 | CRC-32 of the layout's JSON (version 2): a load for another layout is a miss |
 *
 * CRC-32 is zlib's (`node:zlib` crc32, Node ≥ 20.15): ~4 GB/s on one idle core, far faster than
 * any cryptographic hash and enough to catch bit rot and torn or foreign values (not an
 * adversary). The length alone already catches truncation; `checksum: 'none'` keeps that and the
 * key check and skips the CRC where Redis is trusted and CPU is short.
 */
export const VALUE_HEADER_BYTES = 28;
const MAGIC = 0x544b5652; // 'TKVR'
// Version 2 added the layout checksum; version-1 values read as `bad_header` (a miss, removed).
const VERSION = 2;
const FLAG_NO_CHECKSUM = 1;

export type CorruptReason = 'truncated' | 'bad_header' | 'checksum' | 'key_mismatch' | 'size_mismatch' | 'layout_mismatch';

/** The checksum a value records for its layout (0 for none: a value written without one). */
export function layoutChecksum(layoutJson: string): number {
  return crc32(layoutJson);
}

export function keyChecksum(encodedKey: string): number {
  return crc32(encodedKey);
}

/** The header of `payload` (the value is the header followed by the payload, see FramedSetCommand). */
export function encodeHeader(payload: Uint8Array, keyCrc: number, checksum = true, layoutCrc = 0): Buffer {
  const out = Buffer.allocUnsafe(VALUE_HEADER_BYTES);
  out.writeUInt32BE(MAGIC, 0);
  out[4] = VERSION;
  out[5] = checksum ? 0 : FLAG_NO_CHECKSUM;
  out.writeUInt16BE(VALUE_HEADER_BYTES, 6);
  out.writeUInt32BE(Math.floor(payload.byteLength / 0x1_0000_0000), 8);
  out.writeUInt32BE(payload.byteLength >>> 0, 12);
  out.writeUInt32BE(checksum ? crc32(payload) : 0, 16);
  out.writeUInt32BE(keyCrc >>> 0, 20);
  out.writeUInt32BE(layoutCrc >>> 0, 24);
  return out;
}

/** Header and payload in one buffer (tests, tools; the adapter never assembles values). */
export function encodeValue(payload: Uint8Array, keyCrc: number, checksum = true, layoutCrc = 0): Buffer {
  return Buffer.concat([encodeHeader(payload, keyCrc, checksum, layoutCrc), payload]);
}

/**
 * Verifies `value` and copies its payload into `target`. Returns undefined on success, else why it
 * was rejected (then `target` is untouched).
 */
export function decodeValueInto(value: Buffer, keyCrc: number, target: Uint8Array, layoutCrc?: number): CorruptReason | undefined {
  if (value.length < 8) return value.length === 0 ? 'truncated' : 'bad_header';
  if (value.readUInt32BE(0) !== MAGIC || value[4] !== VERSION || (value[5]! & ~FLAG_NO_CHECKSUM) !== 0) return 'bad_header';
  const headerBytes = value.readUInt16BE(6);
  if (headerBytes < VALUE_HEADER_BYTES) return 'bad_header';
  if (value.length < headerBytes) return 'truncated';
  const payloadBytes = value.readUInt32BE(8) * 0x1_0000_0000 + value.readUInt32BE(12);
  const actual = value.length - headerBytes;
  if (actual < payloadBytes) return 'truncated';
  if (actual > payloadBytes) return 'bad_header';
  if (value.readUInt32BE(20) !== keyCrc >>> 0) return 'key_mismatch';
  if (payloadBytes !== target.byteLength) return 'size_mismatch';
  if (layoutCrc !== undefined && value.readUInt32BE(24) !== layoutCrc >>> 0) return 'layout_mismatch';
  const payload = value.subarray(headerBytes);
  if ((value[5]! & FLAG_NO_CHECKSUM) === 0 && crc32(payload) !== value.readUInt32BE(16)) return 'checksum';
  target.set(payload);
  return undefined;
}
