/**
 * The default L1 lock clock: reads performance.now at most once per millisecond (as lru-cache's
 * ttlResolution does). Lock TTLs are minutes, and a clock read costs as much as a small operation.
 */
export class CoarseClock {
  #cached = 0;
  #timer: NodeJS.Timeout | undefined;

  readonly now = (): number => {
    if (this.#timer === undefined) {
      this.#cached = performance.now();
      this.#timer = setTimeout(this.#expire, 1);
      this.#timer.unref();
    }
    return this.#cached;
  };

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
  };
}
