import type { HrTime } from '@opentelemetry/api';

/** Hex digit values by char code (0 for anything else, as the SDK's hexToBinary does not check either). */
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

/** Bytes of the varint of a 32-bit unsigned value. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/**
 * A protobuf writer over one growing Buffer, written field by field with no intermediate objects.
 * Length-delimited fields reserve a guess of their length's varint size and shift their content
 * when the guess was wrong ({@link startLen}/{@link finishLen}): the content is written once.
 * Every write checks capacity itself, except in a run after an explicit {@link ensure}.
 */
export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A tag or any other value below 128. */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** An int64 varint from a JS integer (negative ones in two's complement, 10 bytes), as the SDK writes it. */
  varint64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) return this.varint32(value);
    this.ensure(10);
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 0x100000000) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    const buf = this.buf;
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /**
   * An HrTime as fixed64 nanoseconds since the epoch. seconds × 10⁹ exceeds 2^53 for today's
   * dates, so it is split as (seconds × 1953125) × 512: the product is exact until 2116, and
   * × 512 is a shift across the two 32-bit halves. Fractional nanoseconds truncate, as in the SDK.
   */
  hrTime(t: HrTime): void {
    const a = t[0] * 1953125;
    let low: number;
    let high: number;
    if (a >= 0 && a <= Number.MAX_SAFE_INTEGER) {
      const aLow = a % 0x800000;
      const sum = aLow * 512 + t[1];
      low = sum >>> 0;
      high = ((a - aLow) / 0x800000 + Math.floor(sum / 0x100000000)) >>> 0;
    } else {
      const ns = BigInt.asUintN(64, BigInt(Math.trunc(t[0])) * 1_000_000_000n + BigInt(Math.trunc(t[1])));
      low = Number(ns & 0xffffffffn);
      high = Number(ns >> 32n);
    }
    this.ensure(8);
    this.buf.writeUInt32LE(low, this.pos);
    this.buf.writeUInt32LE(high, this.pos + 4);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (tag written by the caller). */
  string(s: string): void {
    const n = s.length;
    this.ensure(5 + 3 * n);
    const buf = this.buf;
    const start = this.pos;
    if (n < 128) {
      // The common case: short ASCII names and values, copied by char code (cheaper than a
      // native call at these lengths); the first non-ASCII char falls back to the UTF-8 path.
      let p = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) return this.utf8(s, start);
        buf[p++] = c;
      }
      buf[start] = n;
      this.pos = p;
      return;
    }
    this.utf8(s, start);
  }

  private utf8(s: string, start: number): void {
    // Lone surrogates become U+FFFD in both byteLength and write, as with the SDK's TextEncoder.
    const len = Buffer.byteLength(s, 'utf8');
    this.pos = start;
    this.varint32(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** A length-delimited bytes field from a hex id (16 or 8 bytes), decoded straight into the buffer. */
  hexBytes(hex: string): void {
    const n = hex.length >> 1;
    this.ensure(1 + n);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = n;
    for (let i = 0; i < 2 * n; i += 2) buf[p++] = (HEX[hex.charCodeAt(i) & 0x7f]! << 4) | HEX[hex.charCodeAt(i + 1) & 0x7f]!;
    this.pos = p;
  }

  bytes(b: Uint8Array): void {
    this.varint32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Reserves `guess` bytes for the length of what follows; returns where the length goes. */
  startLen(guess: number): number {
    this.ensure(guess);
    const at = this.pos;
    this.pos += guess;
    return at;
  }

  /** Writes the length of what was written since {@link startLen}, moving the content if the guess was off. */
  finishLen(at: number, guess: number): void {
    const len = this.pos - at - guess;
    const size = varintSize(len);
    if (size !== guess) {
      this.ensure(size - guess);
      this.buf.copyWithin(at + size, at + guess, this.pos);
      this.pos += size - guess;
    }
    const buf = this.buf;
    let v = len;
    let p = at;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }
}
