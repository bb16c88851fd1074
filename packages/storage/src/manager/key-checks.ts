import { checkObjectKey, InvalidArgumentError, type ObjectKey } from '@tierkv/core';

/**
 * Checks a key list at the manager's door, before anything changes: a typed error naming the bad
 * argument instead of a TypeError from deep inside (`delete("x")`, `readPrefetched(null)`, …).
 */
export function checkKeyList(keys: unknown, name = 'keys', what = 'an array of ObjectKey'): asserts keys is readonly ObjectKey[] {
  if (!Array.isArray(keys)) throw new InvalidArgumentError(name, `expected ${what}, got ${keys === null ? 'null' : typeof keys}`);
  for (let i = 0; i < keys.length; i++) checkObjectKey(keys[i], `${name}[${i}]`);
}
