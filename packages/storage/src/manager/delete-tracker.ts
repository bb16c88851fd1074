import { debugLogger, encodeKey, type EncodedKey, type ObjectKey } from '@tierkv/core';
import type { L1Manager } from '../l1/l1-manager.js';
import type { InstrumentedL2Adapter } from '../l2/instrumented-l2-adapter.js';
import type { StoreController } from './store-controller.js';

const log = debugLogger('tierkv:storage');

/**
 * What a delete did to one key: `deleted` (some tier held it, none holds it now), `absent` (no tier
 * held it), `locked` (L1 holds it write- or read-locked, so it stays) or `failed` (an L2 tier
 * could not delete it).
 */
export type DeleteOutcome = 'deleted' | 'absent' | 'locked' | 'failed';

// Keys whose L2 delete failed, remembered so their leftover copies are never loaded. Past this many
// a failed delete is still reported `failed`, but its leftover is no longer fenced off.
const TOMBSTONE_LIMIT = 65_536;

/**
 * Deletes across the tiers with a per-key outcome. A key whose L2 delete failed gets a tombstone:
 * it is not announced deleted, prefetch and lookup treat its L2 copy as absent, and each later
 * delete retries removing the copy; writing the key again lifts the tombstone (the write-through
 * overwrites the copy).
 */
export class DeleteTracker {
  readonly #l1: L1Manager;
  readonly #adapters: readonly InstrumentedL2Adapter[];
  readonly #store: StoreController;
  readonly #tombstones = new Map<EncodedKey, ObjectKey>();

  constructor(l1: L1Manager, adapters: readonly InstrumentedL2Adapter[], store: StoreController) {
    this.#l1 = l1;
    this.#adapters = adapters;
    this.#store = store;
  }

  get tombstones(): number {
    return this.#tombstones.size;
  }

  isTombstoned(key: ObjectKey): boolean {
    return this.#tombstones.size > 0 && this.#tombstones.has(encodeKey(key));
  }

  /** The keys were written again: their old L2 copies are superseded. */
  written(keys: readonly ObjectKey[]): void {
    if (this.#tombstones.size === 0) return;
    for (const key of keys) this.#tombstones.delete(encodeKey(key));
  }

  async delete(keys: readonly ObjectKey[]): Promise<DeleteOutcome[]> {
    if (keys.length === 0) return [];
    // A write-through in flight holds an L1 read lock and would bring the key back into L2: let
    // those of these keys land first (and only those).
    await this.#store.waitFor(keys);
    await this.#retryTombstones();
    const l1 = this.#l1.delete(keys);
    const l2 = await Promise.all(
      this.#adapters.map((a) =>
        a.deleteOutcome(keys).then(
          (o) => (o.rejected ? undefined : o.result),
          (err: unknown) => {
            if (log.enabled) log('delete on %s failed: %s', a.name, String(err));
            return undefined;
          },
        ),
      ),
    );
    return keys.map((key, i): DeleteOutcome => {
      if (l2.some((r) => r === undefined)) {
        if (this.#tombstones.size < TOMBSTONE_LIMIT) this.#tombstones.set(encodeKey(key), key);
        return 'failed';
      }
      this.#tombstones.delete(encodeKey(key));
      const code = l1[i]!.code;
      if (code === 'KEY_IS_LOCKED') return 'locked';
      return code === 'SUCCESS' || l2.some((r) => r![i] === true) ? 'deleted' : 'absent';
    });
  }

  async #retryTombstones(): Promise<void> {
    if (this.#tombstones.size === 0) return;
    const keys = [...this.#tombstones.values()];
    const results = await Promise.all(this.#adapters.map((a) => a.deleteOutcome(keys).then((o) => !o.rejected, () => false)));
    if (results.every(Boolean)) for (const key of keys) this.#tombstones.delete(encodeKey(key));
  }
}
