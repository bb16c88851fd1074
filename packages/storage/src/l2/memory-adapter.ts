import { crc32 } from 'node:zlib';
import { ClosedError, ConfigError, encodeKey, type EncodedKey, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { L2Adapter, L2StoreItem, L2Usage } from './l2-adapter.js';
import type { L2FailureReasons } from './l2-failure.js';
import { BufferRecycler } from './buffer-recycler.js';
import { LruIndex } from './lru-index.js';
import { L2AdapterCounts } from './l2-metrics.js';

export interface MemoryL2AdapterOptions extends TelemetryOptions {
  /** The `tierkv.l2.adapter` attribute. @default 'memory' */
  name?: string;
  /** Byte budget; the least recently used unpinned objects are evicted to stay within it. @default undefined (none) */
  capacityBytes?: number;
  /** Verify a crc32 of every object on load (a mismatch is a counted miss). @default true */
  verifyChecksums?: boolean;
}

export interface ResolvedMemoryL2AdapterOptions {
  readonly name: string;
  readonly capacityBytes: number | undefined;
  readonly verifyChecksums: boolean;
}

export const DEFAULT_MEMORY_L2_OPTIONS: ResolvedMemoryL2AdapterOptions = Object.freeze({
  name: 'memory',
  capacityBytes: undefined,
  verifyChecksums: true,
});

interface Entry {
  size: number;
  pins: number;
  data: Uint8Array;
  layout: MemoryLayout;
  crc: number;
}

/**
 * An L2 tier in process memory: a copy of each object with its crc32, an optional byte budget with
 * LRU eviction, and pins. Useful in tests and as a second tier in front of a slow remote one.
 */
export class MemoryL2Adapter implements L2Adapter {
  readonly name: string;
  readonly options: ResolvedMemoryL2AdapterOptions;
  readonly #index = new LruIndex<Entry>();
  readonly #counts: L2AdapterCounts;
  /** Buffers of removed objects, reused by later stores of the same size (an eighth of the budget, at most 64 MiB). */
  readonly #recycler: BufferRecycler;
  #closed = false;

  constructor(options: MemoryL2AdapterOptions = {}) {
    const capacityBytes = options.capacityBytes ?? DEFAULT_MEMORY_L2_OPTIONS.capacityBytes;
    if (capacityBytes !== undefined && (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0)) {
      throw new ConfigError('memoryL2.capacityBytes', `expected a positive integer number of bytes, got ${capacityBytes}`);
    }
    const name = options.name ?? DEFAULT_MEMORY_L2_OPTIONS.name;
    if (typeof name !== 'string' || !/^[a-z0-9_.-]{1,32}$/i.test(name)) {
      throw new ConfigError('memoryL2.name', `expected 1-32 letters, digits, '_', '.' or '-', got ${JSON.stringify(name)}`);
    }
    this.options = Object.freeze({ name, capacityBytes, verifyChecksums: options.verifyChecksums ?? DEFAULT_MEMORY_L2_OPTIONS.verifyChecksums });
    this.name = name;
    this.#counts = new L2AdapterCounts(this.name, options);
    this.#recycler = new BufferRecycler(Math.min(64 * 1024 * 1024, capacityBytes === undefined ? Infinity : Math.floor(capacityBytes / 8)));
  }

  async store(items: readonly L2StoreItem[], reasons?: L2FailureReasons): Promise<boolean[]> {
    this.#check('store');
    const cap = this.options.capacityBytes;
    return items.map((item, i) => {
      const key = encodeKey(item.key);
      const size = item.data.byteLength;
      const existing = this.#index.get(key);
      if (cap !== undefined) {
        const freed = existing ? existing.size : 0;
        const victims = size > cap ? undefined : this.#index.victims(size - freed, cap, key);
        if (!victims) {
          if (reasons) reasons[i] = 'no_space';
          return false;
        }
        for (const [k] of victims) this.#remove(k);
        this.#counts.evicted += victims.length;
      }
      const data = this.#recycler.copyOf(item.data);
      const replaced = this.#index.set(key, { size, pins: existing?.pins ?? 0, data, layout: item.layout, crc: crc32(data) });
      if (replaced) this.#recycler.give(replaced.data);
      return true;
    });
  }

  async lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    this.#check('lookupAndLock');
    return keys.map((k) => this.#index.pin(encodeKey(k)));
  }

  bindTelemetry(telemetry: TelemetryOptions): void {
    this.#counts.bindTelemetry(telemetry);
  }

  async load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout, reasons?: L2FailureReasons): Promise<boolean[]> {
    this.#check('load');
    return keys.map((k, i) => {
      const target = targets[i];
      const key = encodeKey(k);
      const e = this.#index.touch(key);
      // Absent, another size or another layout: a miss (the object, if any, stays).
      if (!e || !target || target.byteLength !== e.size || (layout !== undefined && !e.layout.equals(layout))) {
        if (reasons) reasons[i] = 'miss';
        return false;
      }
      if (this.options.verifyChecksums && crc32(e.data) !== e.crc) {
        this.#counts.corrupt++;
        this.#remove(key);
        if (reasons) reasons[i] = 'corrupt';
        return false;
      }
      target.set(e.data);
      return true;
    });
  }

  async unlock(keys: readonly ObjectKey[]): Promise<void> {
    this.#check('unlock');
    for (const k of keys) this.#index.unpin(encodeKey(k));
  }

  async delete(keys: readonly ObjectKey[]): Promise<boolean[]> {
    this.#check('delete');
    return keys.map((k) => {
      const removed = this.#index.deleteUnpinned(encodeKey(k));
      if (removed) this.#recycler.give(removed.data);
      return removed !== undefined;
    });
  }

  async clear(): Promise<number> {
    this.#check('clear');
    const removed = this.#index.clearUnpinned();
    for (const [, e] of removed) this.#recycler.give(e.data);
    return removed.length;
  }

  usage(): L2Usage {
    return { usedBytes: this.#index.usedBytes, capacityBytes: this.options.capacityBytes, objects: this.#index.size };
  }

  /**
   * Test hook (used by FaultyL2Adapter): flips one stored byte of `key` below the checksum, so the
   * next load must detect it. Returns false when the key is absent.
   */
  async corruptStoredObject(key: ObjectKey, byteIndex = 0): Promise<boolean> {
    const e = this.#index.get(encodeKey(key));
    if (!e || e.size === 0) return false;
    const i = Math.abs(Math.trunc(byteIndex)) % e.size;
    e.data[i] = e.data[i]! ^ 0xff;
    return true;
  }

  /** Pins currently held on `key` (diagnostics and tests). */
  pinsOf(key: ObjectKey): number {
    return this.#index.pinsOf(encodeKey(key));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#counts.close();
    for (const key of [...this.#index.keys()]) this.#index.delete(key);
    this.#recycler.clear();
  }

  /** Removes an object; its buffer serves a later store (loads copy out, so nothing still reads it). */
  #remove(key: EncodedKey): void {
    const e = this.#index.delete(key);
    if (e) this.#recycler.give(e.data);
  }

  #check(operation: string): void {
    if (this.#closed) throw new ClosedError('MemoryL2Adapter', operation);
  }
}
