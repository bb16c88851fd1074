/**
 * Buffers of removed objects kept for the next objects of the same size, up to a byte bound: an
 * in-process tier that copies every stored chunk would otherwise allocate (and the collector free)
 * one buffer per store. Only buffers nothing else references may be given back (the memory tier
 * copies out synchronously, so a removed entry's buffer is free the moment it is removed).
 */
export class BufferRecycler {
  readonly #bySize = new Map<number, Uint8Array[]>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A copy of `data` in a recycled buffer of its size, or a new one. */
  copyOf(data: Uint8Array): Uint8Array {
    const list = this.#bySize.get(data.byteLength);
    const b = list?.pop();
    if (!b) return data.slice();
    this.#bytes -= b.byteLength;
    b.set(data);
    return b;
  }

  /** Takes back a buffer no one reads any more, unless the bound is reached. */
  give(b: Uint8Array): void {
    if (b.byteLength === 0 || this.#bytes + b.byteLength > this.#maxBytes) return;
    let list = this.#bySize.get(b.byteLength);
    if (!list) this.#bySize.set(b.byteLength, (list = []));
    list.push(b);
    this.#bytes += b.byteLength;
  }

  clear(): void {
    this.#bySize.clear();
    this.#bytes = 0;
  }
}
