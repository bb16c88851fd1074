import type { ObjectKey } from '@tierkv/core';
import { ClosedError } from '@tierkv/core';
import type { MemoryObj } from '../l1/memory-obj.js';

/** What a reservation asks of the manager that made it (its own slots only, by generation). */
export interface ReservationOwner {
  commit(keys: readonly ObjectKey[], generations: readonly number[], temporary: boolean): boolean[];
  abort(keys: readonly ObjectKey[], generations: readonly number[]): void;
}

export type ReservationState = 'open' | 'committed' | 'aborted';

/**
 * L1 memory reserved for writing, owned by whoever holds this object. Fill `objects[i].data` in
 * place, then `commit()` publishes exactly these slots (and queues their write-through to L2) or
 * `abort()` gives them back. It cannot touch anything it did not reserve: a slot whose
 * reservation expired (`writeLockTtlMs`) and went to another writer is refused, never published.
 * Single use: after commit or abort every further call is a no-op that says so.
 */
export class WriteReservation {
  /** The keys asked for, in order. */
  readonly keys: readonly ObjectKey[];
  /** Per key, the memory to fill, or undefined when that key was not reserved (present, locked, no room). */
  readonly objects: readonly (MemoryObj | undefined)[];
  readonly temporary: boolean;
  readonly #owner: ReservationOwner;
  readonly #generations: readonly number[];
  #state: ReservationState = 'open';

  /** @internal made by StorageManager.reserve */
  constructor(owner: ReservationOwner, keys: readonly ObjectKey[], objects: readonly (MemoryObj | undefined)[], generations: readonly number[], temporary: boolean) {
    this.#owner = owner;
    this.keys = keys;
    this.objects = objects;
    this.#generations = generations;
    this.temporary = temporary;
  }

  get state(): ReservationState {
    return this.#state;
  }

  /** How many keys got memory. */
  get reserved(): number {
    let n = 0;
    for (const o of this.objects) if (o) n++;
    return n;
  }

  /** The number of leading keys that got memory (what a prefix cache can use). */
  get prefix(): number {
    let n = 0;
    while (n < this.objects.length && this.objects[n]) n++;
    return n;
  }

  /**
   * Publishes the reserved slots: result i is true when key i is now readable (and queued for
   * L2). Keys not reserved, and reservations that expired meanwhile, are false. Once only.
   */
  commit(): boolean[] {
    if (this.#state !== 'open') {
      if (this.#state === 'aborted') throw new ClosedError('WriteReservation', 'commit (it was aborted)');
      return this.keys.map(() => false);
    }
    this.#state = 'committed';
    const { keys, gens, index } = this.#own();
    const ok = keys.length > 0 ? this.#owner.commit(keys, gens, this.temporary) : [];
    const out = this.keys.map(() => false);
    index.forEach((i, j) => (out[i] = ok[j]!));
    return out;
  }

  /** Gives the reserved memory back without publishing anything. Idempotent; a no-op after commit. */
  abort(): void {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    const { keys, gens } = this.#own();
    if (keys.length > 0) this.#owner.abort(keys, gens);
  }


  #own(): { keys: ObjectKey[]; gens: number[]; index: number[] } {
    const keys: ObjectKey[] = [];
    const gens: number[] = [];
    const index: number[] = [];
    this.objects.forEach((o, i) => {
      if (!o) return;
      keys.push(this.keys[i]!);
      gens.push(this.#generations[i]!);
      index.push(i);
    });
    return { keys, gens, index };
  }
}
