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

function fieldsOf(value: Uint8Array): Fields | undefined {
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

/** The bytes a value's header is checked on: the first 8, then (once they name it) the whole header. */
export const HEADER_PREFIX_BYTES = 8;

/** How many leading bytes of a `valueBytes`-long value `checkHeader` needs, given the first `HEADER_PREFIX_BYTES` (or all, if fewer). */
export function headerBytesNeeded(prefix: Uint8Array, valueBytes: number): number {
  if (prefix.byteLength < HEADER_PREFIX_BYTES) return Math.min(valueBytes, HEADER_PREFIX_BYTES);
  return Math.min(valueBytes, Math.max(HEADER_PREFIX_BYTES, (prefix[6]! << 8) | prefix[7]!));
}

/** A header that passed every check but the payload's: what verifying the payload needs. */
export interface CheckedHeader {
  readonly headerBytes: number;
  readonly fields: Fields;
}

/**
 * Every check of a `valueBytes`-long value that its header alone decides, in the order
 * decodeValueInto makes them: `head` is the value's first `headerBytesNeeded` bytes (all of a
 * shorter value). Returns why the value is refused, or the header to verify the payload against.
 */
export function checkHeader(head: Uint8Array, valueBytes: number, keyCrc: number, targetBytes: number, layoutCrc?: number): CorruptReason | CheckedHeader {
  if (valueBytes < HEADER_PREFIX_BYTES) return valueBytes === 0 ? 'truncated' : 'bad_header';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const f = view.getUint32(0) === MAGIC ? fieldsOf(head) : undefined;
  if (!f) return 'bad_header';
  const headerBytes = view.getUint16(6);
  if (headerBytes < f.minHeader) return 'bad_header';
  if (valueBytes < headerBytes) return 'truncated';
  const payloadBytes = view.getUint32(8) * 0x1_0000_0000 + view.getUint32(12);
  const actual = valueBytes - headerBytes;
  if (actual < payloadBytes) return 'truncated';
  if (actual > payloadBytes) return 'bad_header';
  if (view.getUint32(f.keyAt) !== keyCrc >>> 0) return 'key_mismatch';
  if (payloadBytes !== targetBytes) return 'size_mismatch';
  if (layoutCrc !== undefined && view.getUint32(f.layoutAt) !== layoutCrc >>> 0) return 'layout_mismatch';
  return { headerBytes, fields: f };
}

/** Whether `payload` has the checksum `head` (checked by checkHeader) records for it. */
export function payloadMatches(head: Uint8Array, checked: CheckedHeader, payload: Uint8Array, hasher: Xxh3Hasher): boolean {
  const f = checked.fields;
  if (f.algorithm === PAYLOAD_CHECKSUM.none) return true;
  const at = f.checksumAt;
  if (f.algorithm === PAYLOAD_CHECKSUM.crc32) return crc32(payload) === ((head[at]! << 24) | (head[at + 1]! << 16) | (head[at + 2]! << 8) | head[at + 3]!) >>> 0;
  const digest = hasher.digest(payload);
  for (let i = 0; i < 8; i++) if (digest[i] !== head[at + i]) return false;
  return true;
}

/**
 * Verifies `value` (version 3, or version 2 as older code wrote it) and copies its payload into
 * `target`. Returns undefined on success, else why it was rejected (then `target` is untouched).
 */
export function decodeValueInto(value: Buffer, keyCrc: number, target: Uint8Array, hasher: Xxh3Hasher, layoutCrc?: number): CorruptReason | undefined {
  const checked = checkHeader(value, value.length, keyCrc, target.byteLength, layoutCrc);
  if (typeof checked === 'string') return checked;
  const payload = value.subarray(checked.headerBytes);
  if (!payloadMatches(value, checked, payload, hasher)) return 'checksum';
  target.set(payload);
  return undefined;
}
