import { InvalidArgumentError } from '@tierkv/core';

/** The most a set grows to (2^26 slots, 512 MiB, ~53 M chunks): the home-slot arithmetic is exact up to here. */
export const MAX_SLOTS = 2 ** 26;
/** Below this many slots a set grows ×2 and never shrinks: at most 32 KiB, so rehash count matters more than slack. */
const SMALL_SLOTS = 4096;
const MIN_SLOTS = 16;
/** A large set grows at this load ... */
const MAX_LOAD = 0.85;
/** ... or shrinks below this one ... */
const MIN_LOAD = 0.4;
/** ... to this many slots per chunk (a load of 0.71): 8 B · 1.4 = 11.2 B per chunk right after a resize. */
const SLOTS_PER_CHUNK = 1.4;
/** 2^-27: home slot = floor((mix >>> 5) · capacity / 2^27), exact in a double while capacity ≤ 2^26. */
const HOME_SCALE = 2 ** -27;

/**
 * A set of 64-bit chunk hashes in one Uint32Array: open addressing, linear probing, each slot the
 * hash's (hi, lo) halves. Slot (0, 0) means empty; the one real hash equal to zero is a flag.
 * Deletion shifts the probe run back (no tombstones), so lookups stay short after heavy churn.
 *
 * Capacity is any number of slots (not a power of two: the home slot is the mixed hash scaled to
 * the capacity), so a large set can grow in steps of ×1.19 instead of ×2: from 4096 slots on its
 * load stays within 0.71 .. 0.85 while it grows, i.e. 9.4–11.2 bytes per chunk, and it shrinks back
 * to 0.71 when deletions take the load below 0.4 (20 B per chunk). Smaller sets grow ×2 (fewer
 * rehashes of sets that cost at most 32 KiB) and keep their capacity. At 0.85 a linear-probing hit
 * reads ~4 slots (32 B, mostly one cache line) and a miss ~23: a lookup misses at most once per set.
 */
export class ChunkSet {
  #slots: Uint32Array;
  #cap: number;
  /** cap · 2^-27, the home-slot multiplier. */
  #scale: number;
  #size = 0;
  #hasZero = false;
  #growAt: number;
  #shrinkBelow: number;

  constructor(initialCapacity = 0) {
    let cap = MIN_SLOTS;
    while (cap * MAX_LOAD < initialCapacity && cap < SMALL_SLOTS) cap *= 2;
    if (cap * MAX_LOAD < initialCapacity) cap = Math.floor(initialCapacity * SLOTS_PER_CHUNK);
    this.#slots = new Uint32Array(0);
    this.#cap = this.#scale = this.#growAt = this.#shrinkBelow = 0;
    this.#allocate(checkedCapacity(cap));
  }

  get size(): number {
    return this.#size + (this.#hasZero ? 1 : 0);
  }

  /** Bytes of the backing array. */
  get byteSize(): number {
    return this.#slots.byteLength;
  }

  /** Slots in the table (for tests of the capacity policy). */
  get capacity(): number {
    return this.#cap;
  }

  has(hi: number, lo: number): boolean {
    return this.hasMixed(hi >>> 0, lo >>> 0, mixHash(hi, lo));
  }

  /**
   * `has` for a hash whose `mixHash` the caller computed once for many sets (a lookup checks the
   * same hashes against every worker). `hi` and `lo` must be unsigned (`>>> 0`).
   */
  hasMixed(hi: number, lo: number, mix: number): boolean {
    if ((hi | lo) === 0) return this.#hasZero;
    const s = this.#slots;
    const cap = this.#cap;
    let i = ((mix >>> 5) * this.#scale) | 0;
    for (;;) {
      const h = s[2 * i]!;
      const l = s[2 * i + 1]!;
      if (h === hi && l === lo) return true;
      if ((h | l) === 0) return false;
      if (++i === cap) i = 0;
    }
  }

  /**
   * How many hashes of `words` (a HashRun's: hi, lo, mixHash per hash) from index `from` on are
   * members, up to the first that is not, stopping at `limit`.
   */
  runLength(words: Uint32Array, from: number, limit: number): number {
    const s = this.#slots;
    const cap = this.#cap;
    const scale = this.#scale;
    let k = from;
    outer: for (; k < limit; k++) {
      const kh = words[3 * k]!;
      const kl = words[3 * k + 1]!;
      if ((kh | kl) === 0) {
        if (this.#hasZero) continue;
        break;
      }
      let i = ((words[3 * k + 2]! >>> 5) * scale) | 0;
      for (;;) {
        const h = s[2 * i]!;
        const l = s[2 * i + 1]!;
        if (h === kh && l === kl) continue outer;
        if ((h | l) === 0) break outer;
        if (++i === cap) i = 0;
      }
    }
    return k - from;
  }

  /** Returns true if the hash was not there before. */
  add(hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    if ((hi | lo) === 0) {
      if (this.#hasZero) return false;
      this.#hasZero = true;
      return true;
    }
    // Grow before inserting (even if `hi, lo` is a member), so a set that may not grow throws unchanged.
    if (this.#size >= this.#growAt) this.#resize(this.#cap < SMALL_SLOTS ? this.#cap * 2 : Math.floor((this.#size + 1) * SLOTS_PER_CHUNK));
    const s = this.#slots;
    const cap = this.#cap;
    let i = ((mixHash(hi, lo) >>> 5) * this.#scale) | 0;
    for (;;) {
      const h = s[2 * i]!;
      const l = s[2 * i + 1]!;
      if (h === hi && l === lo) return false;
      if ((h | l) === 0) break;
      if (++i === cap) i = 0;
    }
    s[2 * i] = hi;
    s[2 * i + 1] = lo;
    this.#size++;
    return true;
  }

  /** Returns true if the hash was there. */
  delete(hi: number, lo: number): boolean {
    hi >>>= 0;
    lo >>>= 0;
    if ((hi | lo) === 0) {
      const had = this.#hasZero;
      this.#hasZero = false;
      return had;
    }
    const s = this.#slots;
    const cap = this.#cap;
    const scale = this.#scale;
    let i = ((mixHash(hi, lo) >>> 5) * scale) | 0;
    for (;;) {
      const h = s[2 * i]!;
      const l = s[2 * i + 1]!;
      if (h === hi && l === lo) break;
      if ((h | l) === 0) return false;
      if (++i === cap) i = 0;
    }
    // Backward-shift: move later members of the probe run into the hole when their home allows it,
    // i.e. when the hole is nearer their home (cyclically) than where they are. Branch-light
    // distances instead of interval tests: 1.4× faster add + delete (interleaved A/B).
    let hole = i;
    let j = i + 1 === cap ? 0 : i + 1;
    for (;;) {
      const h = s[j * 2]!;
      const l = s[j * 2 + 1]!;
      if ((h | l) === 0) break;
      const home = ((mixHash(h, l) >>> 5) * scale) | 0;
      const fromHomeToJ = j >= home ? j - home : j + cap - home;
      const fromHomeToHole = hole >= home ? hole - home : hole + cap - home;
      if (fromHomeToHole < fromHomeToJ) {
        s[hole * 2] = h;
        s[hole * 2 + 1] = l;
        hole = j;
      }
      if (++j === cap) j = 0;
    }
    s[hole * 2] = 0;
    s[hole * 2 + 1] = 0;
    if (--this.#size < this.#shrinkBelow) this.#resize(Math.max(SMALL_SLOTS, Math.floor(this.#size * SLOTS_PER_CHUNK)));
    return true;
  }

  clear(): void {
    this.#allocate(MIN_SLOTS);
    this.#size = 0;
    this.#hasZero = false;
  }

  /** Calls `fn` for every member (order unspecified). */
  forEach(fn: (hi: number, lo: number) => void): void {
    if (this.#hasZero) fn(0, 0);
    const s = this.#slots;
    for (let i = 0; i < s.length; i += 2) {
      const h = s[i]!;
      const l = s[i + 1]!;
      if ((h | l) !== 0) fn(h, l);
    }
  }

  #allocate(cap: number): void {
    this.#slots = new Uint32Array(cap * 2);
    this.#cap = cap;
    this.#scale = cap * HOME_SCALE;
    this.#growAt = Math.floor(cap * MAX_LOAD);
    this.#shrinkBelow = cap > SMALL_SLOTS ? Math.ceil(cap * MIN_LOAD) : 0;
  }

  #resize(cap: number): void {
    const old = this.#slots;
    this.#allocate(checkedCapacity(cap));
    const s = this.#slots;
    const scale = this.#scale;
    for (let k = 0; k < old.length; k += 2) {
      const hi = old[k]!;
      const lo = old[k + 1]!;
      if ((hi | lo) === 0) continue;
      let i = ((mixHash(hi, lo) >>> 5) * scale) | 0;
      while ((s[i * 2]! | s[i * 2 + 1]!) !== 0) if (++i === cap) i = 0;
      s[i * 2] = hi;
      s[i * 2 + 1] = lo;
    }
  }
}

function checkedCapacity(cap: number): number {
  if (cap > MAX_SLOTS) {
    throw new InvalidArgumentError('chunks', `one worker's location and scope would need ${cap} hash slots, over the limit of ${MAX_SLOTS} (about ${Math.floor(MAX_SLOTS * MAX_LOAD)} chunks); split the chunks over more workers or scopes`);
  }
  return cap;
}

/**
 * A 32-bit mix of both halves (murmur3's finaliser): real chunk hashes are uniform, but tests and
 * tools use small sequential ones. Its top 27 bits pick the home slot.
 */
export function mixHash(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}
