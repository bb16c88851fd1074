import { InvalidArgumentError } from '@tierkv/core';

/** Upper bound of the read-lock count one call may take or release per key (after LMCache). */
export const MAX_READ_LOCKS = 128;

/** Checks a read-lock count given to one call: an integer in [1, MAX_READ_LOCKS]. */
export function checkReadLocks(count: number, name = 'readLocks'): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_READ_LOCKS) {
    throw new InvalidArgumentError(name, `expected an integer in [1, ${MAX_READ_LOCKS}], got ${count}`);
  }
  return count;
}
