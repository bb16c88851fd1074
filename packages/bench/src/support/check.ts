import type { L1KeyResult } from '@tierkv/storage';

/**
 * Throws when an L1 call did not succeed for every key: a benchmark of a broken operation
 * measures nothing, so the scenario fails instead.
 */
export function expectSuccess<T>(what: string, results: readonly L1KeyResult<T>[]): void {
  for (let i = 0; i < results.length; i++) {
    if (results[i]!.code !== 'SUCCESS') throw new Error(`${what}: key ${i} answered ${results[i]!.code}`);
  }
}
