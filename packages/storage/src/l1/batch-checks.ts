import { InvalidArgumentError, type ObjectKey } from '@tierkv/core';

/** The old block of a slot whose object moves to a new block (`replaced` holds slot, block pairs). */
export function oldBlockOf(replaced: readonly number[], slot: number): number {
  for (let r = 0; r < replaced.length; r += 2) if (replaced[r] === slot) return replaced[r + 1]!;
  return -1;
}

/** Checked before a call changes anything, so a bad key fails the whole call with a typed error. */
export function checkKeys(keys: readonly ObjectKey[]): void {
  if (!Array.isArray(keys)) throw new InvalidArgumentError('keys', 'expected an array of ObjectKey');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === null || typeof k !== 'object' || typeof k.chunkHash !== 'string') {
      throw new InvalidArgumentError(`keys[${i}]`, 'expected an ObjectKey {chunkHash, modelName, kvRank, cacheSalt}; build one with objectKey()');
    }
  }
}

export function checkGenerations(keys: readonly ObjectKey[], generations: ArrayLike<number> | undefined): void {
  if (generations === undefined) return;
  if (generations === null || typeof generations !== 'object' || generations.length !== keys.length) {
    throw new InvalidArgumentError('generations', `expected one lock generation per key (${keys.length}), as returned by generations()`);
  }
}
