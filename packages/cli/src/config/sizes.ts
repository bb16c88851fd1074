import { InvalidArgumentError } from '@tierkv/core';

/** Binary (KiB = 1024) and decimal (KB = 1000) byte units, case-insensitive. `K`/`M`/`G`/`T` alone are binary. */
const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

export const SIZE_UNITS_HELP = 'B, KiB, MiB, GiB, TiB (×1024) or KB, MB, GB, TB (×1000)';

const SIZE_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i;

/**
 * Parses `4GiB`, `512 MiB`, `1.5GB`, `65536` (bytes) or a number of bytes into a whole number of
 * bytes. Throws InvalidArgumentError naming `what` and the accepted units.
 */
export function parseSize(value: string | number, what = 'size'): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new InvalidArgumentError(what, `expected a whole number of bytes or a size such as 4GiB, got ${value}`);
  }
  const match = SIZE_RE.exec(value);
  const unit = match ? UNITS[(match[2] ?? '').toLowerCase() || 'b'] : undefined;
  if (!match || unit === undefined) {
    throw new InvalidArgumentError(what, `invalid size ${JSON.stringify(value)}; expected a number with an optional unit: ${SIZE_UNITS_HELP} (e.g. 4GiB)`);
  }
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(what, `size ${JSON.stringify(value)} is too large`);
  return bytes;
}

/** `268435456` → `256 MiB`; keeps up to two decimals and picks the largest binary unit that fits. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = i === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
  return `${text} ${units[i]}`;
}
