import { performance } from 'node:perf_hooks';

/** Budgets (ms per measured subject) the runner suggests through `BenchContext.budgetMs`. */
export const QUICK_BUDGET_MS = 150;
export const FULL_BUDGET_MS = 1500;
/** Slices per subject in `interleave`: enough to spread drift evenly, few enough to stay cheap. */
export const DEFAULT_SLICES = 6;

interface Spent {
  work: number;
  ms: number;
}

function spend(budgetMs: number, round: () => number, minRounds: number): Spent {
  let work = 0;
  let rounds = 0;
  const start = performance.now();
  let ms = 0;
  while (rounds < minRounds || ms < budgetMs) {
    work += round();
    rounds++;
    ms = performance.now() - start;
  }
  return { work, ms };
}

async function spendAsync(budgetMs: number, round: () => Promise<number>, minRounds: number): Promise<Spent> {
  let work = 0;
  let rounds = 0;
  const start = performance.now();
  let ms = 0;
  while (rounds < minRounds || ms < budgetMs) {
    work += await round();
    rounds++;
    ms = performance.now() - start;
  }
  return { work, ms };
}

/**
 * Repeats `round` until `budgetMs` has passed (and at least `minRounds` rounds ran) and returns
 * the work done per second. `round` returns the units of work it did (bytes, operations), so a
 * round can hold many small operations and the clock is read once per round, not per operation.
 */
export function rate(budgetMs: number, round: () => number, minRounds = 1): number {
  const { work, ms } = spend(budgetMs, round, minRounds);
  return (work * 1000) / ms;
}

/** `rate` for asynchronous rounds. */
export async function rateAsync(budgetMs: number, round: () => Promise<number>, minRounds = 1): Promise<number> {
  const { work, ms } = await spendAsync(budgetMs, round, minRounds);
  return (work * 1000) / ms;
}

/**
 * The rates of several subjects measured in alternating slices (A B, B A, A B …), each subject
 * getting `budgetMs` in all. On a shared or throttling machine, drift then hits every subject
 * alike, which is what a ratio between them needs.
 */
export function interleave(budgetMs: number, rounds: readonly (() => number)[], slices = DEFAULT_SLICES): number[] {
  const totals = rounds.map(() => ({ work: 0, ms: 0 }));
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < rounds.length; k++) {
      const i = s % 2 === 0 ? k : rounds.length - 1 - k;
      const spent = spend(budgetMs / slices, rounds[i]!, 1);
      totals[i]!.work += spent.work;
      totals[i]!.ms += spent.ms;
    }
  }
  return totals.map((t) => (t.work * 1000) / t.ms);
}

/** `interleave` for asynchronous rounds. */
export async function interleaveAsync(budgetMs: number, rounds: readonly (() => Promise<number>)[], slices = DEFAULT_SLICES): Promise<number[]> {
  const totals = rounds.map(() => ({ work: 0, ms: 0 }));
  for (let s = 0; s < slices; s++) {
    for (let k = 0; k < rounds.length; k++) {
      const i = s % 2 === 0 ? k : rounds.length - 1 - k;
      const spent = await spendAsync(budgetMs / slices, rounds[i]!, 1);
      totals[i]!.work += spent.work;
      totals[i]!.ms += spent.ms;
    }
  }
  return totals.map((t) => (t.work * 1000) / t.ms);
}

/** Seconds `fn` took once. */
export async function secondsOf(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}
