import { ConfigError } from '@tierkv/core';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive failed calls that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long the breaker stays open before one probe call may try Redis again. @default 2000 */
  openMs?: number;
}

export type ResolvedCircuitBreakerOptions = Required<CircuitBreakerOptions>;

export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: ResolvedCircuitBreakerOptions = Object.freeze({
  failureThreshold: 5,
  openMs: 2000,
});

export function resolveCircuitBreakerOptions(options: CircuitBreakerOptions = {}, field = 'breaker'): ResolvedCircuitBreakerOptions {
  const resolved = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...stripUndefined(options) };
  if (!Number.isInteger(resolved.failureThreshold) || resolved.failureThreshold < 1) {
    throw new ConfigError(`${field}.failureThreshold`, `expected an integer ≥ 1, got ${resolved.failureThreshold}`);
  }
  if (!Number.isFinite(resolved.openMs) || resolved.openMs < 0) {
    throw new ConfigError(`${field}.openMs`, `expected a number of milliseconds ≥ 0, got ${resolved.openMs}`);
  }
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Closed → (failureThreshold consecutive failures) → open → (openMs later, the next call is let
 * through as the only probe) → half-open → closed on success, open again on failure. Call-driven:
 * no timers, so an idle adapter costs nothing; `now` is injectable so tests need not sleep.
 */
export class CircuitBreaker {
  readonly #options: ResolvedCircuitBreakerOptions;
  readonly #now: () => number;
  readonly #onTransition: (to: BreakerState) => void;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;

  constructor(options: ResolvedCircuitBreakerOptions, now: () => number, onTransition: (to: BreakerState) => void = () => {}) {
    this.#options = options;
    this.#now = now;
    this.#onTransition = onTransition;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Whether a call may go to Redis now. In half-open state exactly one call (the probe) is let
   * through; every call that got `true` must end with `success()` or `failure()`.
   */
  tryAcquire(): boolean {
    switch (this.#state) {
      case 'closed':
        return true;
      case 'open':
        if (this.#now() - this.#openedAt < this.#options.openMs) return false;
        this.#enter('half_open');
        this.#probeInFlight = true;
        return true;
      case 'half_open':
        if (this.#probeInFlight) return false;
        this.#probeInFlight = true;
        return true;
    }
  }

  success(): void {
    this.#failures = 0;
    if (this.#state === 'half_open') {
      this.#probeInFlight = false;
      this.#enter('closed');
    }
  }

  failure(): void {
    if (this.#state === 'half_open') {
      this.#probeInFlight = false;
      this.#open();
      return;
    }
    if (this.#state === 'open') return; // a call started before the breaker opened
    if (++this.#failures >= this.#options.failureThreshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#failures = 0;
    this.#enter('open');
  }

  #enter(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onTransition(state);
  }
}
