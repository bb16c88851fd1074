/** Handle of one allocator block (an index into the allocator's typed arrays). */
export type BlockId = number & { readonly __brand: 'BlockId' };

/** Returned by `allocate` when no free block is large enough. */
export const NO_BLOCK = -1;

// Two-level segregated fit (TLSF, Masmano et al. 2004). Sizes are counted in alignment units.
// First level: the power of two of the size; second level: 16 linear subdivisions of it. Each
// (first, second) class has a doubly linked free list; two bitmaps say which lists are non-empty,
// so finding a block is a couple of bit scans (O(1)), with no walk over blocks. Freeing coalesces
// with the physical neighbours through prev/next links (O(1)). "Good fit" search rounds the request
// up to the next class so that any block of the class found fits, and splitting returns the tail
// to the free lists. Before that, the head of the request's exact class is tried (an exact-size
// hole is the common case when chunks share one layout), and when good fit fails a few blocks of
// the exact class are probed, so a request can use a block of its own class that happens to fit.
const SL_BITS = 4;
const SL_COUNT = 1 << SL_BITS;
const FL_COUNT = 64;
/** Blocks of the request's own class examined when good fit finds nothing (bounds the work). */
const EXACT_CLASS_PROBES = 16;

const FLAG_UNUSED = 0;
const FLAG_FREE = 1;
const FLAG_USED = 2;

function floorLog2(n: number): number {
  if (n < 0x8000_0000) return 31 - Math.clz32(n);
  let t = Math.floor(Math.log2(n));
  while (2 ** t > n) t--;
  while (2 ** (t + 1) <= n) t++;
  return t;
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/**
 * Aligned allocator over `[0, totalBytes)`, split into segments that blocks never span. O(1)
 * allocate and free (TLSF); block metadata lives in growable typed arrays indexed by BlockId.
 */
export class TlsfAllocator {
  readonly totalBytes: number;
  readonly alignBytes: number;
  readonly segmentBytes: number;
  #usedBytes = 0;
  #usedBlocks = 0;

  // Block table.
  #offset: Float64Array;
  #size: Float64Array;
  #flag: Uint8Array;
  #prevPhys: Int32Array;
  #nextPhys: Int32Array;
  #prevFree: Int32Array;
  #nextFree: Int32Array;
  #idStack: Int32Array;
  #idTop = 0;
  #idHigh = 0;

  // Free lists.
  readonly #heads = new Int32Array(FL_COUNT * SL_COUNT).fill(-1);
  readonly #slBitmap = new Uint32Array(FL_COUNT);
  #flLow = 0;
  #flHigh = 0;

  constructor(totalBytes: number, alignBytes: number, segmentBytes: number) {
    if ((alignBytes & (alignBytes - 1)) !== 0 || alignBytes <= 0) throw new RangeError('alignBytes must be a power of two');
    if (segmentBytes % alignBytes !== 0) throw new RangeError('segmentBytes must be a multiple of alignBytes');
    this.alignBytes = alignBytes;
    this.segmentBytes = segmentBytes;
    this.totalBytes = Math.floor(totalBytes / alignBytes) * alignBytes;
    const segments = Math.ceil(this.totalBytes / segmentBytes);
    const initial = Math.max(64, segments * 2);
    this.#offset = new Float64Array(initial);
    this.#size = new Float64Array(initial);
    this.#flag = new Uint8Array(initial);
    this.#prevPhys = new Int32Array(initial);
    this.#nextPhys = new Int32Array(initial);
    this.#prevFree = new Int32Array(initial);
    this.#nextFree = new Int32Array(initial);
    this.#idStack = new Int32Array(initial);
    for (let s = 0; s < segments; s++) {
      const id = this.#newId();
      const start = s * segmentBytes;
      this.#offset[id] = start;
      this.#size[id] = Math.min(segmentBytes, this.totalBytes - start);
      this.#prevPhys[id] = -1;
      this.#nextPhys[id] = -1;
      this.#insertFree(id);
    }
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  get freeBytes(): number {
    return this.totalBytes - this.#usedBytes;
  }

  get usedBlockCount(): number {
    return this.#usedBlocks;
  }

  /** The block size `allocate(bytes)` would take (bytes rounded up to the alignment). */
  roundUp(bytes: number): number {
    return Math.max(1, Math.ceil(bytes / this.alignBytes)) * this.alignBytes;
  }

  /** Allocates `bytes` (rounded up to the alignment); returns a BlockId or NO_BLOCK. */
  allocate(bytes: number): BlockId | typeof NO_BLOCK {
    const need = this.roundUp(bytes);
    if (need > this.segmentBytes) return NO_BLOCK;
    const units = need / this.alignBytes;
    // 1. The head of the request's own class, when it fits: KV chunks mostly share one size, so
    //    this reuses the hole an evicted chunk left behind instead of splitting a larger block.
    this.#map(units);
    const exactFl = this.#fl;
    const exactIndex = exactFl * SL_COUNT + this.#sl;
    let block = exactFl < FL_COUNT ? this.#heads[exactIndex]! : -1;
    if (block >= 0 && this.#size[block]! < need) block = -1;
    // 2. Good fit: round up to the next class boundary, so any block of the class found fits.
    if (block < 0) block = this.#findFree(units >= SL_COUNT ? units + 2 ** (floorLog2(units) - SL_BITS) - 1 : units);
    // 3. Last resort, a bounded probe of the request's own class (blocks there may be smaller).
    if (block < 0 && exactFl < FL_COUNT) {
      let probe = this.#heads[exactIndex]!;
      for (let i = 0; probe >= 0 && i < EXACT_CLASS_PROBES; i++, probe = this.#nextFree[probe]!) {
        if (this.#size[probe]! >= need) {
          block = probe;
          break;
        }
      }
    }
    if (block < 0) return NO_BLOCK;
    this.#removeFree(block);
    const rest = this.#size[block]! - need;
    if (rest >= this.alignBytes) {
      const tail = this.#newId();
      this.#offset[tail] = this.#offset[block]! + need;
      this.#size[tail] = rest;
      const next = this.#nextPhys[block]!;
      this.#prevPhys[tail] = block;
      this.#nextPhys[tail] = next;
      if (next >= 0) this.#prevPhys[next] = tail;
      this.#nextPhys[block] = tail;
      this.#size[block] = need;
      this.#insertFree(tail);
    }
    this.#flag[block] = FLAG_USED;
    this.#usedBytes += this.#size[block]!;
    this.#usedBlocks++;
    return block as BlockId;
  }

  /** Returns a block; coalesces it with free neighbours. */
  free(block: BlockId): void {
    if (this.#flag[block] !== FLAG_USED) throw new Error(`block ${block} is not allocated`);
    this.#usedBytes -= this.#size[block]!;
    this.#usedBlocks--;
    let id: number = block;
    const next = this.#nextPhys[id]!;
    if (next >= 0 && this.#flag[next] === FLAG_FREE) {
      this.#removeFree(next);
      this.#size[id]! += this.#size[next]!;
      this.#unlinkPhys(next);
      this.#releaseId(next);
    }
    const prev = this.#prevPhys[id]!;
    if (prev >= 0 && this.#flag[prev] === FLAG_FREE) {
      this.#removeFree(prev);
      this.#size[prev]! += this.#size[id]!;
      this.#unlinkPhys(id);
      this.#releaseId(id);
      id = prev;
    }
    this.#insertFree(id);
  }

  offsetOf(block: BlockId): number {
    return this.#offset[block]!;
  }

  sizeOf(block: BlockId): number {
    return this.#size[block]!;
  }

  isAllocated(block: number): boolean {
    return block >= 0 && block < this.#idHigh && this.#flag[block] === FLAG_USED;
  }

  /** Checks the allocator's own bookkeeping; returns problems (empty when sound). */
  check(): string[] {
    const problems: string[] = [];
    let free = 0;
    let used = 0;
    let usedBlocks = 0;
    const segments = Math.ceil(this.totalBytes / this.segmentBytes);
    // Walk every segment's physical chain from its first block.
    const heads = new Map<number, number>();
    for (let id = 0; id < this.#idHigh; id++) {
      if (this.#flag[id] === FLAG_UNUSED) continue;
      if (this.#prevPhys[id] === -1) heads.set(Math.floor(this.#offset[id]! / this.segmentBytes), id);
    }
    let reached = 0;
    for (let s = 0; s < segments; s++) {
      const start = s * this.segmentBytes;
      const end = Math.min(start + this.segmentBytes, this.totalBytes);
      let id = heads.get(s) ?? -1;
      if (id < 0) {
        problems.push(`segment ${s} has no first block`);
        continue;
      }
      let cursor = start;
      let prevFree = false;
      let prev = -1;
      while (id >= 0) {
        reached++;
        if (this.#prevPhys[id] !== prev) problems.push(`block ${id}: prev link ${this.#prevPhys[id]} != ${prev}`);
        const off = this.#offset[id]!;
        const size = this.#size[id]!;
        if (off !== cursor) problems.push(`block ${id} at ${off} but previous block ends at ${cursor} (${off < cursor ? 'overlap' : 'gap'})`);
        if (size <= 0 || size % this.alignBytes !== 0 || off % this.alignBytes !== 0) problems.push(`block ${id} misaligned: offset ${off}, size ${size}`);
        const isFree = this.#flag[id] === FLAG_FREE;
        if (isFree && prevFree) problems.push(`adjacent free blocks at ${off} were not coalesced`);
        if (isFree) free += size;
        else {
          used += size;
          usedBlocks++;
        }
        prevFree = isFree;
        cursor = off + size;
        prev = id;
        id = this.#nextPhys[id]!;
        if (reached > this.#idHigh) {
          problems.push('cycle in the physical block chain');
          return problems;
        }
      }
      if (cursor !== end) problems.push(`segment ${s} blocks end at ${cursor}, expected ${end}`);
    }
    let live = 0;
    for (let id = 0; id < this.#idHigh; id++) if (this.#flag[id] !== FLAG_UNUSED) live++;
    if (live !== reached) problems.push(`${live - reached} blocks are not reachable from any segment`);
    if (free + used !== this.totalBytes) problems.push(`free ${free} + used ${used} != arena ${this.totalBytes}`);
    if (used !== this.#usedBytes) problems.push(`used bytes ${this.#usedBytes} recorded, ${used} found`);
    if (usedBlocks !== this.#usedBlocks) problems.push(`used blocks ${this.#usedBlocks} recorded, ${usedBlocks} found`);
    // Every free block must sit in exactly the list of its class, and bitmaps must match the lists.
    let listed = 0;
    for (let fl = 0; fl < FL_COUNT; fl++) {
      for (let sl = 0; sl < SL_COUNT; sl++) {
        const head = this.#heads[fl * SL_COUNT + sl]!;
        const bit = (this.#slBitmap[fl]! >>> sl) & 1;
        if ((head >= 0) !== (bit === 1)) problems.push(`free-list bitmap mismatch at class ${fl}/${sl}`);
        let prev = -1;
        for (let id = head; id >= 0; id = this.#nextFree[id]!) {
          listed++;
          if (this.#flag[id] !== FLAG_FREE) problems.push(`used block ${id} in a free list`);
          if (this.#prevFree[id] !== prev) problems.push(`free-list prev link broken at block ${id}`);
          this.#map(this.#size[id]! / this.alignBytes);
          const f = this.#fl;
          const s = this.#sl;
          if (f !== fl || s !== sl) problems.push(`block ${id} of size ${this.#size[id]} in class ${fl}/${sl}, expected ${f}/${s}`);
          prev = id;
          if (listed > this.#idHigh) {
            problems.push('cycle in a free list');
            return problems;
          }
        }
      }
      const flBit = fl < 32 ? (this.#flLow >>> fl) & 1 : (this.#flHigh >>> (fl - 32)) & 1;
      if ((this.#slBitmap[fl] !== 0) !== (flBit === 1)) problems.push(`first-level bitmap mismatch at class ${fl}`);
    }
    let freeBlocks = 0;
    for (let id = 0; id < this.#idHigh; id++) if (this.#flag[id] === FLAG_FREE) freeBlocks++;
    if (listed !== freeBlocks) problems.push(`${freeBlocks} free blocks but ${listed} in free lists`);
    return problems;
  }

  // Results of #map, kept in fields so the hot path allocates nothing.
  #fl = 0;
  #sl = 0;

  #map(units: number): void {
    if (units < SL_COUNT) {
      this.#fl = 0;
      this.#sl = units;
      return;
    }
    const t = floorLog2(units);
    this.#fl = t - SL_BITS + 1;
    this.#sl = Math.floor(units / 2 ** (t - SL_BITS)) - SL_COUNT;
  }

  #findFree(units: number): number {
    this.#map(units);
    let fl = this.#fl;
    if (fl >= FL_COUNT) return -1;
    let bits = this.#slBitmap[fl]! & (~0 << this.#sl);
    if (bits === 0) {
      fl = this.#nextFirstLevel(fl + 1);
      if (fl < 0) return -1;
      bits = this.#slBitmap[fl]!;
    }
    return this.#heads[fl * SL_COUNT + lowestBit(bits)]!;
  }

  #nextFirstLevel(from: number): number {
    if (from < 32) {
      const low = this.#flLow & (~0 << from);
      if (low !== 0) return lowestBit(low);
      from = 32;
    }
    if (from >= FL_COUNT) return -1;
    const high = this.#flHigh & (~0 << (from - 32));
    return high !== 0 ? 32 + lowestBit(high) : -1;
  }

  #insertFree(id: number): void {
    this.#map(this.#size[id]! / this.alignBytes);
    const fl = this.#fl;
    const sl = this.#sl;
    const index = fl * SL_COUNT + sl;
    const head = this.#heads[index]!;
    this.#flag[id] = FLAG_FREE;
    this.#prevFree[id] = -1;
    this.#nextFree[id] = head;
    if (head >= 0) this.#prevFree[head] = id;
    this.#heads[index] = id;
    this.#slBitmap[fl]! |= 1 << sl;
    if (fl < 32) this.#flLow |= 1 << fl;
    else this.#flHigh |= 1 << (fl - 32);
  }

  #removeFree(id: number): void {
    this.#map(this.#size[id]! / this.alignBytes);
    const fl = this.#fl;
    const sl = this.#sl;
    const index = fl * SL_COUNT + sl;
    const prev = this.#prevFree[id]!;
    const next = this.#nextFree[id]!;
    if (prev >= 0) this.#nextFree[prev] = next;
    else this.#heads[index] = next;
    if (next >= 0) this.#prevFree[next] = prev;
    if (this.#heads[index]! < 0) {
      this.#slBitmap[fl]! &= ~(1 << sl);
      if (this.#slBitmap[fl] === 0) {
        if (fl < 32) this.#flLow &= ~(1 << fl);
        else this.#flHigh &= ~(1 << (fl - 32));
      }
    }
  }

  #unlinkPhys(id: number): void {
    const prev = this.#prevPhys[id]!;
    const next = this.#nextPhys[id]!;
    if (prev >= 0) this.#nextPhys[prev] = next;
    if (next >= 0) this.#prevPhys[next] = prev;
  }

  #newId(): number {
    if (this.#idTop > 0) return this.#idStack[--this.#idTop]!;
    if (this.#idHigh === this.#flag.length) this.#grow(this.#flag.length * 2);
    return this.#idHigh++;
  }

  #releaseId(id: number): void {
    this.#flag[id] = FLAG_UNUSED;
    this.#idStack[this.#idTop++] = id;
  }

  #grow(capacity: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.#offset = grow(this.#offset, (n) => new Float64Array(n));
    this.#size = grow(this.#size, (n) => new Float64Array(n));
    this.#flag = grow(this.#flag, (n) => new Uint8Array(n));
    this.#prevPhys = grow(this.#prevPhys, (n) => new Int32Array(n));
    this.#nextPhys = grow(this.#nextPhys, (n) => new Int32Array(n));
    this.#prevFree = grow(this.#prevFree, (n) => new Int32Array(n));
    this.#nextFree = grow(this.#nextFree, (n) => new Int32Array(n));
    this.#idStack = grow(this.#idStack, (n) => new Int32Array(n));
  }
}
