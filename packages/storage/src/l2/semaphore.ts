/**
 * Counts permits for bounded concurrency (file-system operations, in-flight L2 loads). FIFO, so a
 * large request is not starved by small ones.
 */
export class Semaphore {
  readonly #capacity: number;
  #available: number;
  readonly #waiters: { n: number; resolve: () => void }[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`semaphore capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#available = capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Permits currently held. */
  get inUse(): number {
    return this.#capacity - this.#available;
  }

  /** Resolves once `n` permits (clamped to the capacity) are held. */
  acquire(n = 1): Promise<void> {
    const want = Math.min(Math.max(1, n), this.#capacity);
    if (this.#waiters.length === 0 && this.#available >= want) {
      this.#available -= want;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ n: want, resolve }));
  }

  release(n = 1): void {
    this.#available = Math.min(this.#capacity, this.#available + Math.min(Math.max(1, n), this.#capacity));
    while (this.#waiters.length > 0 && this.#available >= this.#waiters[0]!.n) {
      const w = this.#waiters.shift()!;
      this.#available -= w.n;
      w.resolve();
    }
  }

  /** Runs `fn` holding `n` permits. */
  async run<T>(fn: () => Promise<T>, n = 1): Promise<T> {
    await this.acquire(n);
    try {
      return await fn();
    } finally {
      this.release(n);
    }
  }
}
