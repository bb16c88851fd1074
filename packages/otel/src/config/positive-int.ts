import { ConfigError } from '@tierkv/core';

/** An optional option that must be a positive whole number: a ConfigError naming `field` otherwise. */
export function positiveInt(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(field, `${String(value)} is not a positive whole number`);
  return value;
}
