import { expect } from 'chai';
import { encodeKey, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import type { MemoryObj } from '../../src/l1/memory-obj.js';
import type { L2Adapter, L2StoreItem } from '../../src/l2/l2-adapter.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { StorageManager } from '../../src/manager/storage-manager.js';
import type { StorageManagerOptions } from '../../src/manager/storage-manager.js';

export const KIB = 1024;
export const layout = MemoryLayout.bytes(KIB);

export function key(n: number, model = 'sm-test'): ObjectKey {
  return objectKey(n.toString(16).padStart(16, '0'), model);
}

export function keys(indices: readonly number[]): ObjectKey[] {
  return indices.map((i) => key(i));
}

/** The bytes object `n` is written with: every test can check what it reads back. */
export function pattern(n: number, size = KIB): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (n * 31 + i * 7) & 0xff;
  return out;
}

const open: StorageManager[] = [];

export function manager(options: Partial<StorageManagerOptions> = {}): StorageManager {
  const sm = new StorageManager({ ...options, l1: { capacityBytes: 256 * KIB, lockSweepIntervalMs: 0, ...options.l1 } as StorageManagerOptions['l1'] });
  open.push(sm);
  return sm;
}

export async function closeAll(): Promise<void> {
  for (const sm of open.splice(0)) await sm.close().catch(() => undefined);
}

/** reserveWrite + fill with pattern(n) + finishWrite, asserting success. */
export function write(sm: StorageManager, indices: readonly number[]): ObjectKey[] {
  const ks = keys(indices);
  const objs = sm.reserveWrite(ks, layout);
  objs.forEach((o, i) => {
    expect(o, `reserveWrite of key ${indices[i]}`).to.not.equal(undefined);
    o!.data.set(pattern(indices[i]!));
  });
  expect(sm.finishWrite(ks)).to.deep.equal(ks.map(() => true));
  return ks;
}

export function expectPattern(objs: readonly MemoryObj[], indices: readonly number[]): void {
  expect(objs.length).to.equal(indices.length);
  objs.forEach((o, i) => expect(Buffer.from(o.data).equals(Buffer.from(pattern(indices[i]!))), `bytes of key ${indices[i]}`).to.equal(true));
}

export const codes = (results: readonly { code: string }[]): string[] => results.map((r) => r.code);

/**
 * A slow L2: every store waits `delayMs` (or until `open()` while gated), and what reached it is
 * recorded in `stored` (bytes copied), which stays readable after close().
 */
export class SlowL2 implements L2Adapter {
  readonly name = 'slow';
  readonly inner = new MemoryL2Adapter();
  readonly stored = new Map<string, Uint8Array>();
  #gate: Promise<void> | undefined;
  #open: () => void = () => undefined;

  constructor(readonly delayMs: number, gated = false) {
    if (gated) this.#gate = new Promise<void>((r) => (this.#open = r));
  }

  open(): void {
    this.#open();
    this.#gate = undefined;
  }

  store = async (items: readonly L2StoreItem[]) => {
    if (this.#gate) await this.#gate;
    await new Promise((r) => setTimeout(r, this.delayMs));
    const ok = await this.inner.store(items);
    items.forEach((it, i) => ok[i] && this.stored.set(encodeKey(it.key), Uint8Array.from(it.data)));
    return ok;
  };
  lookupAndLock = (k: readonly ObjectKey[]) => this.inner.lookupAndLock(k);
  load = (k: readonly ObjectKey[], t: readonly Uint8Array[], layout?: MemoryLayout) => this.inner.load(k, t, layout);
  unlock = (k: readonly ObjectKey[]) => this.inner.unlock(k);
  delete = (k: readonly ObjectKey[]) => this.inner.delete(k);
  usage = () => this.inner.usage();
  close = () => this.inner.close();
}
