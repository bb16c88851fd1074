/**
 * At most one warning per topic per interval, visible by default (console.warn): an operator must
 * see a full disk or a permission problem once, not 3 000 times. Occurrences in between are
 * counted and reported with the next line.
 */
export class WarnLimiter {
  readonly #warn: (line: string) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(warn: (line: string) => void, intervalMs: number, now: () => number) {
    this.#warn = warn;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Warns `line()` unless `topic` warned within the interval (then only counts it). Never throws. */
  warn(topic: string, line: () => string): void {
    const now = this.#now();
    const last = this.#last.get(topic);
    if (last && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#last.set(topic, { at: now, suppressed: 0 });
    try {
      this.#warn(suppressed > 0 ? `${line()} (${suppressed} more since the last such warning)` : line());
    } catch {
      // A logger must never fail a store.
    }
  }
}
