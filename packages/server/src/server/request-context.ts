import { WireError } from '../protocol/wire-error.js';
import type { ClientSession } from './client-sessions.js';

/**
 * One request being served: its client and its deadline. Handlers wrap every wait in `within`, so
 * a request that outlives its deadline (or a shutdown) is answered at once and the handler cleans
 * up whatever it acquired when the late work settles. The timer is created on the first wait only:
 * requests that never wait (ping, store) cost no timer.
 */
export class RequestContext {
  readonly session: ClientSession;
  readonly #timeoutMs: number;
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #expired: Promise<never> | undefined;
  #reject: ((err: WireError) => void) | undefined;
  #done = false;
  #failure: WireError | undefined;

  constructor(session: ClientSession, timeoutMs: number) {
    this.session = session;
    this.#timeoutMs = timeoutMs;
    this.#startedAt = performance.now();
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
      const left = Math.max(0, this.#timeoutMs - (performance.now() - this.#startedAt));
      this.#timer = setTimeout(() => this.abort(new WireError('TIMEOUT', `the request did not finish within its ${this.#timeoutMs} ms deadline on the server`)), left);
    }
    return Promise.race([p, this.#expired]);
  }

  /** Fails the request now (deadline or shutdown); waits in progress reject with `err`. */
  abort(err: WireError): void {
    if (this.#done || this.#failure) return;
    this.#failure = err;
    this.#reject?.(err);
  }

  /** The request was answered: stop the timer. */
  finish(): void {
    this.#done = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
