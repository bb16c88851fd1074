/** Runs `sweep` every `intervalMs` on an unref'd timer; the sweep itself reads the injected clock. */
export class HeartbeatReaper {
  readonly #intervalMs: number;
  readonly #sweep: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(intervalMs: number, sweep: () => void) {
    this.#intervalMs = intervalMs;
    this.#sweep = sweep;
  }

  start(): void {
    if (this.#timer || this.#intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      try {
        this.#sweep();
      } catch {
        // The sweep only mutates in-memory state; a bug there must not kill the timer.
      }
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
