/**
 * A small, fast, seeded PRNG (mulberry32): fault injection must be replayable, so every random
 * choice comes from here and the seed is printed when a test fails.
 */
export class SeededRandom {
  readonly seed: number;
  #state: number;

  constructor(seed: number = randomSeed()) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && (p >= 1 || this.next() < p);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** A seed from the environment (`TIERKV_FAULT_SEED`) for replays, else a random one. */
export function randomSeed(): number {
  const env = typeof process !== 'undefined' ? process.env.TIERKV_FAULT_SEED : undefined;
  if (env !== undefined && env !== '' && Number.isFinite(Number(env))) return Number(env) >>> 0;
  return (Math.random() * 2 ** 32) >>> 0;
}
