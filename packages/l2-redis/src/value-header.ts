import { crc32 } from 'node:zlib';
import type { MemoryLayout } from '@tierkv/core';
import type { Xxh3Hasher } from '@tierkv/storage';

/**
 * Every value is `header ‖ payload`, so a truncated, foreign or corrupt value is a miss, never data.
 * Version 3 (written since the XXH3 change), 32 header bytes:
 *
 * | bytes | field |
 * |---|---|
 * | 0-3   | magic `TKVR` |
 * | 4     | format version (3) |
 * | 5     | payload checksum algorithm: 0 none (`checksum: 'none'`), 1 CRC-32, 2 XXH3-64 |
 * | 6-7   | header length (32), so a later version can grow it |
 * | 8-15  | payload length, unsigned 64-bit big-endian |
 * | 16-23 | payload checksum: XXH3-64 canonical (big-endian) digest; CRC-32 in 16-19 and zeros; zeros for none |
 * | 24-27 | CRC-32 of the encoded ObjectKey |
 * | 28-31 | CRC-32 of the layout's JSON: a load for another layout is a miss |
 *
 * Version 2 (read and verified, never written), 28 bytes: byte 5 flags (bit 0: no payload
 * checksum), 16-19 CRC-32 of the payload, 20-23 key CRC-32, 24-27 layout CRC-32. Version 1 values
 * read as `bad_header` (a miss, removed), as before.
 *
 * XXH3-64 (`selectXxh3`: a native SIMD addon, memory speed, or its WebAssembly fallback) replaced
 * zlib's CRC-32, which at ~4 GB/s per core kept stores of 256 KiB values below raw ioredis. Neither
 * is cryptographic: they catch bit rot and torn or foreign values, not an adversary. The length
 * alone already catches truncation; `checksum: 'none'` keeps that and the key check and skips the
 * payload hash where Redis is trusted and CPU is short.
 */
export const VALUE_HEADER_BYTES = 32;
const V2_HEADER_BYTES = 28;
const MAGIC = 0x544b5652; // 'TKVR'
const VERSION = 3;

/** The payload checksum algorithms a version-3 header can name (byte 5). */
export const PAYLOAD_CHECKSUM = Object.freeze({ none: 0, crc32: 1, xxh3: 2 });
export type PayloadChecksum = keyof typeof PAYLOAD_CHECKSUM;

export type CorruptReason = 'truncated' | 'bad_header' | 'checksum' | 'key_mismatch' | 'size_mismatch' | 'layout_mismatch';

/** The checksum a value records for its layout (0 for none: a value written without one). */
export function layoutChecksum(layoutJson: string): number {
  return crc32(layoutJson);
}

/** Layouts are immutable and a batch usually shares one: its checksum is computed once. */
const layoutChecksums = new WeakMap<MemoryLayout, number>();

/** layoutChecksum of `layout`'s JSON, cached per layout object. */
export function layoutChecksumOf(layout: MemoryLayout): number {
  let crc = layoutChecksums.get(layout);
  if (crc === undefined) {
    crc = layoutChecksum(JSON.stringify(layout.toJSON()));
    layoutChecksums.set(layout, crc);
  }
  return crc;
}

export function keyChecksum(encodedKey: string): number {
  return crc32(encodedKey);
}

/** The header of `payload` (the value is the header followed by the payload, see FramedSetCommand). */
export function encodeHeader(payload: Uint8Array, keyCrc: number, checksum: PayloadChecksum, hasher: Xxh3Hasher, layoutCrc = 0): Buffer {
  const out = Buffer.allocUnsafe(VALUE_HEADER_BYTES);
  out.writeUInt32BE(MAGIC, 0);
  out[4] = VERSION;
  out[5] = PAYLOAD_CHECKSUM[checksum];
  out.writeUInt16BE(VALUE_HEADER_BYTES, 6);
  out.writeUInt32BE(Math.floor(payload.byteLength / 0x1_0000_0000), 8);
  out.writeUInt32BE(payload.byteLength >>> 0, 12);
  out.fill(0, 16, 24);
  if (checksum === 'xxh3') out.set(hasher.digest(payload), 16);
  else if (checksum === 'crc32') out.writeUInt32BE(crc32(payload), 16);
  out.writeUInt32BE(keyCrc >>> 0, 24);
  out.writeUInt32BE(layoutCrc >>> 0, 28);
  return out;
}

/** Header and payload in one buffer (tests, tools; the adapter never assembles values). */
export function encodeValue(payload: Uint8Array, keyCrc: number, checksum: PayloadChecksum, hasher: Xxh3Hasher, layoutCrc = 0): Buffer {
  return Buffer.concat([encodeHeader(payload, keyCrc, checksum, hasher, layoutCrc), payload]);
}

/** Where a version's fields sit. */
interface Fields {
  readonly minHeader: number;
  readonly algorithm: number;
  readonly checksumAt: number;
  readonly keyAt: number;
  readonly layoutAt: number;
}

function fieldsOf(value: Buffer): Fields | undefined {
  if (value[4] === VERSION) {
    const algorithm = value[5]!;
    if (algorithm > PAYLOAD_CHECKSUM.xxh3) return undefined;
    return { minHeader: VALUE_HEADER_BYTES, algorithm, checksumAt: 16, keyAt: 24, layoutAt: 28 };
  }
  if (value[4] === 2) {
    if ((value[5]! & ~1) !== 0) return undefined;
    const algorithm = (value[5]! & 1) === 1 ? PAYLOAD_CHECKSUM.none : PAYLOAD_CHECKSUM.crc32;
    return { minHeader: V2_HEADER_BYTES, algorithm, checksumAt: 16, keyAt: 20, layoutAt: 24 };
  }
  return undefined;
}

function payloadMatches(value: Buffer, payload: Buffer, f: Fields, hasher: Xxh3Hasher): boolean {
  if (f.algorithm === PAYLOAD_CHECKSUM.none) return true;
  if (f.algorithm === PAYLOAD_CHECKSUM.crc32) return crc32(payload) === value.readUInt32BE(f.checksumAt);
  const digest = hasher.digest(payload);
  for (let i = 0; i < 8; i++) if (digest[i] !== value[f.checksumAt + i]) return false;
  return true;
}

/**
 * Verifies `value` (version 3, or version 2 as older code wrote it) and copies its payload into
 * `target`. Returns undefined on success, else why it was rejected (then `target` is untouched).
 */
export function decodeValueInto(value: Buffer, keyCrc: number, target: Uint8Array, hasher: Xxh3Hasher, layoutCrc?: number): CorruptReason | undefined {
  if (value.length < 8) return value.length === 0 ? 'truncated' : 'bad_header';
  const f = value.readUInt32BE(0) === MAGIC ? fieldsOf(value) : undefined;
  if (!f) return 'bad_header';
  const headerBytes = value.readUInt16BE(6);
  if (headerBytes < f.minHeader) return 'bad_header';
  if (value.length < headerBytes) return 'truncated';
  const payloadBytes = value.readUInt32BE(8) * 0x1_0000_0000 + value.readUInt32BE(12);
  const actual = value.length - headerBytes;
  if (actual < payloadBytes) return 'truncated';
  if (actual > payloadBytes) return 'bad_header';
  if (value.readUInt32BE(f.keyAt) !== keyCrc >>> 0) return 'key_mismatch';
  if (payloadBytes !== target.byteLength) return 'size_mismatch';
  if (layoutCrc !== undefined && value.readUInt32BE(f.layoutAt) !== layoutCrc >>> 0) return 'layout_mismatch';
  const payload = value.subarray(headerBytes);
  if (!payloadMatches(value, payload, f, hasher)) return 'checksum';
  target.set(payload);
  return undefined;
}
