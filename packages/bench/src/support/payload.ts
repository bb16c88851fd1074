/** Deterministic, non-constant bytes (`seed` tells the objects of a batch apart). */
export function pattern(len: number, seed: number): Uint8Array {
  const a = new Uint8Array(len);
  for (let i = 0; i < len; i++) a[i] = (i * 131 + seed) & 0xff;
  return a;
}

/** Throws when any per-key result of a batch call failed: a benchmark must not time failures. */
export function allTrue(what: string, results: readonly boolean[]): void {
  const bad = results.indexOf(false);
  if (bad >= 0) throw new Error(`${what}: key ${bad} of ${results.length} failed`);
}
