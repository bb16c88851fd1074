import { encodeKey, objectKey, type EncodedKey, type ObjectKey } from '@tierkv/core';
import type { WorkerStorage } from '../../src/worker-client/worker-client.js';

type Listener = Parameters<WorkerStorage['addListener']>[0];

/** A storage stand-in that fires L1 listener events and keeps its true key set. */
export class FakeStorage implements WorkerStorage {
  readonly listeners = new Set<Listener>();
  readonly keys = new Map<EncodedKey, ObjectKey>();

  addListener(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  write(keys: readonly ObjectKey[]): void {
    for (const k of keys) this.keys.set(encodeKey(k), k);
    for (const l of this.listeners) l.onL1KeysWriteFinished?.(keys);
  }

  delete(keys: readonly ObjectKey[]): void {
    const gone = keys.filter((k) => this.keys.delete(encodeKey(k)));
    for (const l of this.listeners) l.onL1KeysDeleted?.(gone);
  }

  evict(keys: readonly ObjectKey[]): void {
    const gone = keys.filter((k) => this.keys.delete(encodeKey(k)));
    for (const l of this.listeners) l.onL1KeysEvicted?.(gone, 'watermark');
  }

  /** Fires the L2 events the StorageManager forwards from its adapters. */
  l2(adapter: string, op: 'stored' | 'deleted', keys: readonly ObjectKey[]): void {
    for (const l of this.listeners) (op === 'stored' ? l.onL2KeysStored : l.onL2KeysDeleted)?.(adapter, keys);
  }

  clear(): void {
    this.delete([...this.keys.values()]);
  }

  hashes(): Set<string> {
    return new Set([...this.keys.values()].map((k) => k.chunkHash));
  }
}

/** Deterministic 16-hex-char chunk hashes. */
export function hashOf(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export function keysOf(ns: readonly number[], modelName = 'm'): ObjectKey[] {
  return ns.map((n) => objectKey(hashOf(n), modelName));
}
