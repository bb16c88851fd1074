import type { BenchMeasurement } from '../scenario.js';

const KIB = 1024;
const MIB = KIB * 1024;
const GIB = MIB * 1024;

function fixed(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function bytes(v: number): string {
  const a = Math.abs(v);
  if (a >= GIB) return `${fixed(v / GIB)} GiB`;
  if (a >= MIB) return `${fixed(v / MIB)} MiB`;
  if (a >= KIB) return `${fixed(v / KIB)} KiB`;
  return `${fixed(v)} B`;
}

function count(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${fixed(v / 1e9)} G`;
  if (a >= 1e6) return `${fixed(v / 1e6)} M`;
  if (a >= 1e3) return `${fixed(v / 1e3)} k`;
  return fixed(v);
}

function seconds(v: number): string {
  const a = Math.abs(v);
  if (a >= 1) return `${fixed(v)} s`;
  if (a >= 1e-3) return `${fixed(v * 1e3)} ms`;
  if (a >= 1e-6) return `${fixed(v * 1e6)} µs`;
  return `${fixed(v * 1e9)} ns`;
}

/** A value with a readable unit: `11.2 GiB/s`, `3.41 M ops/s`, `18.0 µs`, `29.5 B/chunk`. */
export function formatValue(value: number, unit: BenchMeasurement['unit']): string {
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case 'B/s':
      return `${bytes(value)}/s`;
    case 'B':
      return bytes(value);
    case 'B/chunk':
      return `${fixed(value)} B/chunk`;
    case 's':
      return seconds(value);
    case 'ops/s':
    case 'events/s':
      return `${count(value)} ${unit}`;
  }
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? ratio.toFixed(2) : String(ratio);
}
