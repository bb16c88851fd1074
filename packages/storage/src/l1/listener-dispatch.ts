import type { ObjectKey } from '@tierkv/core';
import type { EvictionReason, L1Listener } from './l1-listener.js';
import type { L1KeyResult } from './l1-result.js';

// One bit per listener method: calls skip collecting keys nobody wants.
export const W_RESERVED_WRITE = 1;
export const W_WRITE_FINISHED = 2;
export const W_WRITE_ABORTED = 4;
export const W_RESERVED_READ = 8;
export const W_READ_FINISHED = 16;
export const W_DELETED = 32;
export const W_EVICTED = 64;

export type KeysMethod = Exclude<keyof L1Listener, 'onL1KeysEvicted'>;

/**
 * The L1 listeners and the calls to them: which methods anyone implements, the keys a call
 * succeeded on, evictions gathered during a call and reported when it ends, and isolation of a
 * listener that throws (counted through `onError`, never failing the call).
 */
export class ListenerDispatch {
  readonly #onError: (method: string, err: unknown) => void;
  #listeners: L1Listener[] = [];
  #wanted = 0;
  #pendingEvicted: { keys: ObjectKey[]; reason: EvictionReason }[] = [];

  constructor(onError: (method: string, err: unknown) => void) {
    this.#onError = onError;
  }

  /** The W_* bits of the methods some listener implements (0: nobody listens). */
  get wanted(): number {
    return this.#wanted;
  }

  /** Whether any listener implements the method of `bit` (a W_* constant). */
  wants(bit: number): boolean {
    return (this.#wanted & bit) !== 0;
  }

  /** Adds a listener (its methods are looked up now); returns the function that removes it. */
  add(listener: L1Listener): () => void {
    this.#listeners = [...this.#listeners, listener];
    this.#wanted = wantedMethods(this.#listeners);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
      this.#wanted = wantedMethods(this.#listeners);
    };
  }

  clear(): void {
    this.#listeners = [];
    this.#wanted = 0;
    this.#pendingEvicted = [];
  }

  /** Calls `method` on every listener with the keys whose result is SUCCESS. */
  notify(method: KeysMethod, keys: readonly ObjectKey[], results: readonly L1KeyResult<unknown>[]): void {
    const ok: ObjectKey[] = [];
    for (let i = 0; i < keys.length; i++) if (results[i]!.code === 'SUCCESS') ok.push(keys[i]!);
    if (ok.length > 0) this.emit(method, ok);
  }

  emit(method: KeysMethod, keys: readonly ObjectKey[]): void {
    for (const listener of this.#listeners) {
      const fn = listener[method];
      if (!fn) continue;
      try {
        fn.call(listener, keys);
      } catch (err) {
        this.#onError(method, err);
      }
    }
  }

  /** Gathers an eviction of the current call (reported by flushEvicted when the call ends). */
  queueEvicted(key: ObjectKey, reason: EvictionReason): void {
    if ((this.#wanted & W_EVICTED) === 0) return;
    const last = this.#pendingEvicted[this.#pendingEvicted.length - 1];
    if (last !== undefined && last.reason === reason) last.keys.push(key);
    else this.#pendingEvicted.push({ keys: [key], reason });
  }

  flushEvicted(): void {
    if (this.#pendingEvicted.length === 0) return;
    const batches = this.#pendingEvicted;
    this.#pendingEvicted = [];
    for (const { keys, reason } of batches) {
      for (const listener of this.#listeners) {
        if (!listener.onL1KeysEvicted) continue;
        try {
          listener.onL1KeysEvicted(keys, reason);
        } catch (err) {
          this.#onError('onL1KeysEvicted', err);
        }
      }
    }
  }
}

function wantedMethods(listeners: readonly L1Listener[]): number {
  let bits = 0;
  for (const l of listeners) {
    if (l.onL1KeysReservedWrite) bits |= W_RESERVED_WRITE;
    if (l.onL1KeysWriteFinished) bits |= W_WRITE_FINISHED;
    if (l.onL1KeysWriteAborted) bits |= W_WRITE_ABORTED;
    if (l.onL1KeysReservedRead) bits |= W_RESERVED_READ;
    if (l.onL1KeysReadFinished) bits |= W_READ_FINISHED;
    if (l.onL1KeysDeleted) bits |= W_DELETED;
    if (l.onL1KeysEvicted) bits |= W_EVICTED;
  }
  return bits;
}
