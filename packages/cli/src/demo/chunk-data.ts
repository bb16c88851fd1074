import type { ObjectKey } from '@tierkv/core';

/**
 * Synthetic KV bytes for a chunk: its 8-byte chunk hash repeated. Deterministic from the key, so
 * a retrieved chunk can be checked byte for byte, and cheap to make (Buffer.fill with a pattern).
 */
export function fillChunk(target: Uint8Array, key: ObjectKey): void {
  const view = Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  view.fill(Buffer.from(key.chunkHash, 'hex'));
}

/** A new chunk of `byteSize` bytes for `key`. */
export function makeChunk(key: ObjectKey, byteSize: number): Buffer {
  const out = Buffer.allocUnsafe(byteSize);
  fillChunk(out, key);
  return out;
}

/** Whether `data` holds exactly the bytes `fillChunk` writes for `key` (every byte compared). */
export function verifyChunk(data: Uint8Array, key: ObjectKey, scratch: Buffer): boolean {
  if (scratch.length < data.byteLength) return false;
  const expected = scratch.subarray(0, data.byteLength);
  fillChunk(expected, key);
  return expected.equals(data);
}
