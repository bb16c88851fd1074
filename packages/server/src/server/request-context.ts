import { WireError } from '../protocol/wire-error.js';
import type { ClientSession } from './client-sessions.js';
import type { DeadlineSweep, Expirable } from './deadline-sweep.js';

/**
 * One request being served: its client and its deadline. Handlers wrap every wait in `within`, so
 * a request that outlives its deadline (or a shutdown) is answered at once and the handler cleans
 * up whatever it acquired when the late work settles. The deadline is watched from the first wait
 * only, by the server's one DeadlineSweep: requests that never wait (ping, store) cost nothing, and
 * those that do cost no timer of their own.
 */
export class RequestContext implements Expirable {
  readonly session: ClientSession;
  readonly deadline: number;
  readonly #timeoutMs: number;
  readonly #sweep: DeadlineSweep;
  #watched = false;
  #expired: Promise<never> | undefined;
  #reject: ((err: WireError) => void) | undefined;
  #done = false;
  #failure: WireError | undefined;

  constructor(session: ClientSession, timeoutMs: number, sweep: DeadlineSweep) {
    this.session = session;
    this.#timeoutMs = timeoutMs;
    this.#sweep = sweep;
    this.deadline = performance.now() + timeoutMs;
  }

  /** Set once the deadline passed or the request was aborted. */
  get failed(): WireError | undefined {
    return this.#failure;
  }

  within<T>(p: Promise<T>): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#expired) {
      this.#expired = new Promise<never>((_, reject) => (this.#reject = reject));
      this.#expired.catch(() => undefined);
      this.#watched = true;
      this.#sweep.add(this);
    }
    return Promise.race([p, this.#expired]);
  }

  /** Fails the request now (deadline or shutdown); waits in progress reject with `err`. */
  abort(err: WireError): void {
    if (this.#done || this.#failure) return;
    this.#failure = err;
    this.#reject?.(err);
  }

  /** The deadline passed (called by the sweep). */
  expire(): void {
    this.#watched = false;
    this.abort(new WireError('TIMEOUT', `the request did not finish within its ${this.#timeoutMs} ms deadline on the server`));
  }

  /** The request was answered: stop watching its deadline. */
  finish(): void {
    this.#done = true;
    if (this.#watched) this.#sweep.delete(this);
  }
}
