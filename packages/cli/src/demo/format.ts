import { formatSize } from '../config/sizes.js';

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function rate(n: number, seconds: number): string {
  return seconds > 0 ? (n / seconds).toFixed(n / seconds >= 100 ? 0 : 1) : '-';
}

export function bytesRate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatSize(Math.round(bytes / seconds))}/s` : '-';
}

export function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(value >= 10 ? 0 : 2)} ms`;
}

export { formatSize };
