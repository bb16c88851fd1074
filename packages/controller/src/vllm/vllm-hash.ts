/**
 * vLLM block hashes in the KV pool's form: every hash becomes its low 64 bits read big-endian, which
 * is exactly the int vLLM publishes when its events carry int hashes, so a pool entry is 8 bytes
 * whichever form (uint64, 32-byte SHA-256 or 16-byte XXH3-128 `bin`) a publisher used.
 */

const U64 = (1n << 64n) - 1n;

/** The canonical 64-bit form of a published hash, or undefined if `v` is not a hash. */
export function canonicalHash(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v & U64; // & also maps a negative (signed) int64 to its bits
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) & U64 : undefined;
  if (v instanceof Uint8Array) {
    if (v.length < 8 || v.length > 64) return undefined;
    const view = new DataView(v.buffer, v.byteOffset + v.length - 8, 8);
    return view.getBigUint64(0);
  }
  return undefined;
}

/** High and low 32-bit halves, the KV pool's ChunkSet key. */
export function hashHalves(h: bigint): [hi: number, lo: number] {
  return [Number(h >> 32n), Number(h & 0xffff_ffffn)];
}

/** Every hash's (hi, lo) halves, interleaved in one array: the scorer's form, computed once per request. */
export function hashHalvesOf(hashes: readonly bigint[]): Uint32Array {
  const out = new Uint32Array(hashes.length * 2);
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i]!;
    out[2 * i] = Number(h >> 32n);
    out[2 * i + 1] = Number(h & 0xffff_ffffn);
  }
  return out;
}

const DECIMAL = /^[0-9]{1,20}$/;
const HEX = /^(0x)?[0-9a-fA-F]{1,64}$/;

/**
 * A hash given by a score request: a safe integer, a decimal string (uint64 above 2^53 must come as a
 * string), or hex (`0x…`, or 16/32/64 hex digits; longer hex is a full digest and its low 64 bits count).
 */
export function parseHashInput(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined;
  if (typeof v !== 'string') return undefined;
  // A 16+ char all-digit string is ambiguous; decimal wins unless it is prefixed or has a-f digits.
  if (DECIMAL.test(v)) {
    const n = BigInt(v);
    return n <= U64 ? n : undefined;
  }
  if (!HEX.test(v)) return undefined;
  const digits = v.startsWith('0x') ? v.slice(2) : v;
  if (digits.length === 0) return undefined;
  return BigInt(`0x${digits.slice(-16)}`);
}

const TWO32 = 0x1_0000_0000;

/**
 * `parseHashInput` straight into (hi, lo) halves at `out[2i]`, `out[2i + 1]`, without a BigInt (the
 * score path parses every hash of every request); false where parseHashInput gives undefined.
 */
export function parseHashHalves(v: unknown, out: Uint32Array, i: number): boolean {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) return false;
    out[2 * i] = Math.floor(v / TWO32);
    out[2 * i + 1] = v >>> 0;
    return true;
  }
  if (typeof v !== 'string') return false;
  const n = v.length;
  let hi = 0;
  let lo = 0;
  let k = 0;
  for (; k < n && k < 21; k++) {
    const d = v.charCodeAt(k) - 48;
    if (d < 0 || d > 9) break;
    lo = lo * 10 + d; // < 2^36: exact
    const carry = Math.floor(lo / TWO32);
    lo -= carry * TWO32;
    hi = hi * 10 + carry;
  }
  if (k === n && n >= 1 && n <= 20) {
    // All digits: decimal, as in parseHashInput (≥ 2^64 is refused).
    if (hi >= TWO32) return false;
    out[2 * i] = hi;
    out[2 * i + 1] = lo;
    return true;
  }
  if (!HEX.test(v)) return false;
  const digits = v.startsWith('0x') ? v.slice(2) : v;
  if (digits.length === 0) return false;
  const low16 = digits.length > 16 ? digits.slice(-16) : digits;
  const split = Math.max(0, low16.length - 8);
  out[2 * i] = split === 0 ? 0 : parseInt(low16.slice(0, split), 16);
  out[2 * i + 1] = parseInt(low16.slice(split), 16);
  return true;
}

