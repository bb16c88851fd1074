/**
 * A set of 64-bit chunk hashes in one Uint32Array: open addressing, linear probing, each slot the
 * hash's (hi, lo) halves. Slot (0, 0) means empty; the one real hash equal to zero is a flag.
 * Deletion shifts the probe run back (no tombstones), so lookups stay short after heavy churn.
 * 8 bytes per slot at a load factor of 3/8 .. 3/4 is 10.7 .. 21.3 bytes per chunk.
 */
export class ChunkSet {
  #slots: Uint32Array;
  #mask: number;
  #size = 0;
  #hasZero = false;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap * 0.75 < initialCapacity) cap *= 2;
    this.#slots = new Uint32Array(cap * 2);
    this.#mask = cap - 1;
  }

  get size(): number {
    return this.#size + (this.#hasZero ? 1 : 0);
  }

  /** Bytes of the backing array. */
  get byteSize(): number {
    return this.#slots.byteLength;
  }

  has(hi: number, lo: number): boolean {
    if ((hi | lo) === 0) return this.#hasZero;
    return !this.#isEmpty(this.#find(hi, lo));
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
    if ((this.#size + 1) * 4 > (this.#mask + 1) * 3) this.#grow();
    const i = this.#find(hi, lo);
    if (!this.#isEmpty(i)) return false;
    this.#slots[i * 2] = hi;
    this.#slots[i * 2 + 1] = lo;
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
    const mask = this.#mask;
    const i = this.#find(hi, lo);
    if (this.#isEmpty(i)) return false;
    // Backward-shift: move later members of the probe run into the hole when their home allows it.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const h = s[j * 2]!;
      const l = s[j * 2 + 1]!;
      if ((h | l) === 0) break;
      const home = slotOf(h, l) & mask;
      // The entry at j may move to `hole` iff its home is not cyclically within (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        s[hole * 2] = h;
        s[hole * 2 + 1] = l;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    s[hole * 2] = 0;
    s[hole * 2 + 1] = 0;
    this.#size--;
    return true;
  }

  clear(): void {
    this.#slots = new Uint32Array(32);
    this.#mask = 15;
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

  /** The slot holding (hi, lo), or else the empty slot that ends its probe run. */
  #find(hi: number, lo: number): number {
    const s = this.#slots;
    const mask = this.#mask;
    let i = slotOf(hi, lo) & mask;
    for (;;) {
      const h = s[i * 2]!;
      const l = s[i * 2 + 1]!;
      if ((h | l) === 0 || (h === hi && l === lo)) return i;
      i = (i + 1) & mask;
    }
  }

  #isEmpty(slot: number): boolean {
    return (this.#slots[slot * 2]! | this.#slots[slot * 2 + 1]!) === 0;
  }

  #grow(): void {
    const old = this.#slots;
    const cap = (this.#mask + 1) * 2;
    this.#slots = new Uint32Array(cap * 2);
    this.#mask = cap - 1;
    this.#size = 0;
    const s = this.#slots;
    for (let k = 0; k < old.length; k += 2) {
      const hi = old[k]!;
      const lo = old[k + 1]!;
      if ((hi | lo) === 0) continue;
      let i = slotOf(hi, lo) & this.#mask;
      while ((s[i * 2]! | s[i * 2 + 1]!) !== 0) i = (i + 1) & this.#mask;
      s[i * 2] = hi;
      s[i * 2 + 1] = lo;
      this.#size++;
    }
  }
}

/** Mixes both halves: real chunk hashes are uniform, but tests and tools use small sequential ones. */
function slotOf(hi: number, lo: number): number {
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 13)) >>> 0;
}
