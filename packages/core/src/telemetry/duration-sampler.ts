import { createNoopMeter, type Histogram } from '@opentelemetry/api';

const NOOP_HISTOGRAM = createNoopMeter().createHistogram('tierkv.noop');

/** Whether `histogram` is the API's no-op one (no SDK registered): timing for it is wasted work. */
export function isNoopHistogram(histogram: Histogram): boolean {
  return histogram === NOOP_HISTOGRAM;
}

/**
 * Chooses which calls of a hot operation to time: at most one per operation per interval.
 * Recording a histogram value costs the SDK about a microsecond per reader (it hashes the
 * attributes), as much as a small in-memory call itself; sampling keeps that to a few
 * microseconds per millisecond while an exact counter beside it still counts every call.
 */
export class DurationSampler {
  /** 1 when the next call of the operation is to be timed. */
  readonly #due: Uint8Array;
  readonly #intervalMs: number;
  #rearmTimer: NodeJS.Timeout | undefined;

  constructor(operations: number, intervalMs = 1) {
    this.#due = new Uint8Array(operations).fill(1);
    this.#intervalMs = intervalMs;
  }

  /** The start time (performance.now()) when this call of operation `op` is to be timed, else 0. */
  start(op: number): number {
    if (this.#due[op] === 0) return 0;
    this.#due[op] = 0;
    if (this.#rearmTimer === undefined) {
      this.#rearmTimer = setTimeout(this.#rearm, this.#intervalMs);
      this.#rearmTimer.unref();
    }
    return performance.now();
  }

  close(): void {
    if (this.#rearmTimer !== undefined) clearTimeout(this.#rearmTimer);
    this.#rearmTimer = undefined;
  }

  readonly #rearm = (): void => {
    this.#rearmTimer = undefined;
    this.#due.fill(1);
  };
}
