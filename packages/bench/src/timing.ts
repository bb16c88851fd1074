import { performance } from 'node:perf_hooks';

/** Budgets (ms per measured subject) the runner suggests through `BenchContext.budgetMs`. */
export const QUICK_BUDGET_MS = 150;
export const FULL_BUDGET_MS = 1500;

/**
 * Repeats `round` until `budgetMs` has passed (and at least `minRounds` rounds ran) and returns
 * the work done per second. `round` returns the units of work it did (bytes, operations), so a
 * round can hold many small operations and the clock is read once per round, not per operation.
 */
export function rate(budgetMs: number, round: () => number, minRounds = 1): number {
  let work = 0;
  let rounds = 0;
  const start = performance.now();
  let elapsed = 0;
  while (rounds < minRounds || elapsed < budgetMs) {
    work += round();
    rounds++;
    elapsed = performance.now() - start;
  }
  return (work * 1000) / elapsed;
}

/** `rate` for asynchronous rounds. */
export async function rateAsync(budgetMs: number, round: () => Promise<number>, minRounds = 1): Promise<number> {
  let work = 0;
  let rounds = 0;
  const start = performance.now();
  let elapsed = 0;
  while (rounds < minRounds || elapsed < budgetMs) {
    work += await round();
    rounds++;
    elapsed = performance.now() - start;
  }
  return (work * 1000) / elapsed;
}

/** Seconds `fn` took once. */
export async function secondsOf(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}
