/**
 * A small seeded PRNG (mulberry32): the demo's workload must be reproducible from `--seed`, and
 * Math.random cannot be seeded.
 */
export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A derived generator, so each client's stream is independent of the others' progress. */
  fork(salt: number): SeededRandom {
    return new SeededRandom(Math.imul(this.int(0, 0xffff_ffff) ^ salt, 0x85ebca6b) >>> 0);
  }
}
