import type { Span } from '@opentelemetry/api';
import type { ObjectKey } from '@tierkv/core';
import { ATTR, ClosedError, endSpan, InvalidArgumentError } from '@tierkv/core';
import type { MemoryObj } from '../l1/memory-obj.js';
import { isDurable, type CommitOptions, type DurableOutcome } from './durable-commit.js';

/** What a reservation asks of the manager that made it (its own slots only, by generation). */
export interface ReservationOwner {
  /** Publishes and ends `span` (the reservation's store span) once the commit is done. */
  commit(keys: readonly ObjectKey[], generations: readonly number[], temporary: boolean, span: Span | undefined): boolean[];
  /** Throws when a durable commit cannot be honoured (no L2 tier), before anything is published. */
  checkDurable(): void;
  commitDurable(keys: readonly ObjectKey[], generations: readonly number[], span: Span | undefined): Promise<DurableOutcome>[];
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
  /**
   * The 'tierkv.storage.store' span, open from reserve to commit or abort (a durable commit: until
   * its write-through settled). A reservation dropped without either never ends it, so it is never
   * exported: commit or abort every reservation.
   */
  readonly #span: Span | undefined;
  #state: ReservationState = 'open';

  /** @internal made by StorageManager.reserve */
  constructor(owner: ReservationOwner, keys: readonly ObjectKey[], objects: readonly (MemoryObj | undefined)[], generations: readonly number[], temporary: boolean, span?: Span) {
    this.#owner = owner;
    this.keys = keys;
    this.objects = objects;
    this.#generations = generations;
    this.temporary = temporary;
    this.#span = span;
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
   *
   * With `{ durable: true }` it publishes the same way but resolves only once each key's
   * write-through to every L2 tier settled, with a DurableOutcome per key (never rejects). It
   * throws ConfigError (`storage.l2`) without an L2 tier and InvalidArgumentError for a temporary
   * reservation (never written to L2); the reservation then stays open.
   */
  commit(options?: CommitOptions & { durable?: false }): boolean[];
  commit(options: CommitOptions & { durable: true }): Promise<DurableOutcome[]>;
  commit(options?: CommitOptions): boolean[] | Promise<DurableOutcome[]>;
  commit(options?: CommitOptions): boolean[] | Promise<DurableOutcome[]> {
    if (isDurable(options)) return this.#commitDurable();
    if (this.#state !== 'open') {
      if (this.#state === 'aborted') throw new ClosedError('WriteReservation', 'commit (it was aborted)');
      return this.keys.map(() => false);
    }
    this.#state = 'committed';
    const { keys, gens, index } = this.#own();
    let ok: boolean[] = [];
    if (keys.length > 0) ok = this.#owner.commit(keys, gens, this.temporary, this.#span);
    else endSpan(this.#span, () => ({ [ATTR.KEYS_PUBLISHED]: 0, [ATTR.STORAGE_DURABLE]: false }));
    const out = this.keys.map(() => false);
    index.forEach((i, j) => (out[i] = ok[j]!));
    return out;
  }

  #commitDurable(): Promise<DurableOutcome[]> {
    if (this.#state === 'aborted') throw new ClosedError('WriteReservation', 'commit (it was aborted)');
    if (this.#state === 'committed') return Promise.resolve(this.keys.map(() => 'not_stored'));
    if (this.temporary) throw new InvalidArgumentError('options.durable', 'a temporary reservation is never written to L2; reserve without temporary to commit durably');
    this.#owner.checkDurable();
    this.#state = 'committed';
    const { keys, gens, index } = this.#own();
    let l2: Promise<DurableOutcome>[] = [];
    if (keys.length > 0) l2 = this.#owner.commitDurable(keys, gens, this.#span);
    else endSpan(this.#span, () => ({ [ATTR.KEYS_PUBLISHED]: 0, [ATTR.STORAGE_DURABLE]: true, [ATTR.KEYS_DURABLE]: 0 }));
    const out: Promise<DurableOutcome>[] = this.keys.map(() => Promise.resolve('not_stored'));
    index.forEach((i, j) => (out[i] = l2[j]!));
    return Promise.all(out);
  }

  /** Gives the reserved memory back without publishing anything. Idempotent; a no-op after commit. */
  abort(): void {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    const { keys, gens } = this.#own();
    if (keys.length > 0) this.#owner.abort(keys, gens);
    endSpan(this.#span, () => ({ [ATTR.KEYS_PUBLISHED]: 0, [ATTR.STORAGE_ABORTED]: true }));
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
