import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { L1Manager, type L1Options } from '../../src/l1/l1-manager.js';

/** A key whose chunk hash encodes `n`. */
export function key(n: number, model = 'test-model'): ObjectKey {
  return objectKey(n.toString(16).padStart(16, '0'), model);
}

export function keys(from: number, count: number): ObjectKey[] {
  return Array.from({ length: count }, (_, i) => key(from + i));
}

/** A clock tests move by hand. */
export class FakeClock {
  ms = 1_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const KIB = 1024;
export const MIB = 1024 * 1024;

export const layout1k = MemoryLayout.bytes(KIB);

/** Managers made by `manager()` are closed by `closeAll()` (call it in afterEach). */
const open: L1Manager[] = [];

export function manager(options: Partial<L1Options> = {}): L1Manager {
  const m = new L1Manager({ capacityBytes: 64 * KIB, alignBytes: 256, lockSweepIntervalMs: 0, ...options });
  open.push(m);
  return m;
}

export function closeAll(): void {
  for (const m of open.splice(0)) m.close();
}

/** reserveWrite + finishWrite, asserting success; returns the keys. */
export function put(m: L1Manager, ks: ObjectKey[], layout: MemoryLayout = layout1k): ObjectKey[] {
  const r = m.reserveWrite(ks, layout, 'new');
  for (const x of r) if (x.code !== 'SUCCESS') throw new Error(`reserveWrite: ${x.code}`);
  const f = m.finishWrite(ks);
  for (const x of f) if (x.code !== 'SUCCESS') throw new Error(`finishWrite: ${x.code}`);
  return ks;
}

export const codes = (results: readonly { code: string }[]): string[] => results.map((r) => r.code);
