/**
 * The bytes behind L1: `capacityBytes` split into segments of `segmentBytes`, each one ArrayBuffer
 * created on first use (so a large, mostly empty L1 costs nothing up front). Offsets are global; a
 * block never crosses a segment boundary (the allocator keeps segments apart).
 */
export class Arena {
  readonly capacityBytes: number;
  readonly segmentBytes: number;
  readonly #segments: (ArrayBuffer | undefined)[];
  #materializedBytes = 0;
  #released = false;

  constructor(capacityBytes: number, segmentBytes: number) {
    this.capacityBytes = capacityBytes;
    this.segmentBytes = segmentBytes;
    this.#segments = new Array<ArrayBuffer | undefined>(Math.ceil(capacityBytes / segmentBytes)).fill(undefined);
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Bytes of the segments created so far. */
  get materializedBytes(): number {
    return this.#materializedBytes;
  }

  /** Length of segment `index` (the last one may be shorter). */
  segmentLength(index: number): number {
    const start = index * this.segmentBytes;
    return Math.min(this.segmentBytes, this.capacityBytes - start);
  }

  /** A zero-copy view of `[offset, offset + length)`, which must lie in one segment. */
  view(offset: number, length: number): Uint8Array {
    const index = Math.floor(offset / this.segmentBytes);
    let buffer = this.#segments[index];
    if (buffer === undefined) {
      if (this.#released) throw new Error('arena released');
      const size = this.segmentLength(index);
      buffer = new ArrayBuffer(size);
      this.#segments[index] = buffer;
      this.#materializedBytes += size;
    }
    return new Uint8Array(buffer, offset - index * this.segmentBytes, length);
  }

  /** Drops every segment; views handed out earlier keep their buffer alive until they are dropped. */
  release(): void {
    this.#segments.fill(undefined);
    this.#materializedBytes = 0;
    this.#released = true;
  }
}
