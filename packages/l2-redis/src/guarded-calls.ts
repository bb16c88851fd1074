import { UnavailableError, debugLogger } from '@tierkv/core';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { RedisMetrics, ShortCircuitedOperation } from './redis-metrics.js';

const log = debugLogger('tierkv:l2-redis');

/**
 * The gate every adapter call passes: the circuit breaker (a refused call gets its fallback and is
 * counted as short-circuited; a transport failure the call reports, or an error it throws, counts
 * against the breaker) and the set of calls in flight, which close() waits for.
 */
export class GuardedCalls {
  readonly #breaker: CircuitBreaker;
  readonly #metrics: RedisMetrics;
  readonly #inflight = new Set<Promise<unknown>>();

  constructor(breaker: CircuitBreaker, metrics: RedisMetrics) {
    this.#breaker = breaker;
    this.#metrics = metrics;
  }

  /** Runs `body` if the breaker allows, else `fallback`; UnavailableError is the only error that escapes. */
  run<T>(operation: ShortCircuitedOperation, fallback: () => T, body: () => Promise<{ value: T; failure?: Error | undefined }>): Promise<T> {
    const promise = this.#guarded(operation, fallback, body);
    this.#inflight.add(promise);
    const forget = () => this.#inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Resolves when every call in flight has settled, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#inflight]), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  async #guarded<T>(operation: ShortCircuitedOperation, fallback: () => T, body: () => Promise<{ value: T; failure?: Error | undefined }>): Promise<T> {
    if (!this.#breaker.tryAcquire()) {
      this.#metrics.shortCircuited[operation]++;
      return fallback();
    }
    let failed = true;
    try {
      const { value, failure } = await body();
      failed = failure !== undefined;
      return value;
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      log('%s failed: %s', operation, (err as Error).message);
      return fallback();
    } finally {
      if (failed) this.#breaker.failure();
      else this.#breaker.success();
    }
  }
}
