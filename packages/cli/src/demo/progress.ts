import type { DemoStats } from './demo-stats.js';
import { bytesRate, count, percent, rate } from './format.js';

export interface ProgressOptions {
  /** Where to write. @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Run length in seconds, for the `12s/20s` part. */
  durationS: number;
  /** Redraw period on a terminal (ms). @default 250 */
  ttyIntervalMs?: number;
  /** Period of plain lines when the stream is not a terminal (ms). @default 2000 */
  plainIntervalMs?: number;
  /** Extra text at the end of each line (tier usage). */
  extra?: () => string;
}

/**
 * The demo's live progress: one line redrawn in place on a terminal, plain periodic lines
 * otherwise (logs, CI, a test's pipe), so the output stays readable either way.
 */
export class ProgressReporter {
  readonly #stats: DemoStats;
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #options: ProgressOptions;
  #timer: NodeJS.Timeout | undefined;
  /** Recent samples: the shown rates cover about the last two seconds, steady on a fast redraw. */
  #samples: { at: number; requests: number; bytes: number }[] = [];

  constructor(stats: DemoStats, options: ProgressOptions) {
    this.#stats = stats;
    this.#options = options;
    this.#stream = options.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
  }

  start(): void {
    const interval = this.#tty ? (this.#options.ttyIntervalMs ?? 250) : (this.#options.plainIntervalMs ?? 2000);
    this.#samples = [{ at: performance.now(), requests: 0, bytes: 0 }];
    this.#timer = setInterval(() => this.#draw(), interval);
    this.#timer.unref();
  }

  /** Stops and clears the live line (a terminal) so the summary starts on a clean line. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty) this.#stream.write('\r\x1b[2K');
  }

  line(): string {
    const s = this.#stats;
    const now = performance.now();
    const elapsed = (now - s.startedAt) / 1000;
    const bytes = s.bytesRetrieved + s.bytesStored;
    if (this.#samples.length === 0) this.#samples.push({ at: s.startedAt, requests: 0, bytes: 0 });
    this.#samples.push({ at: now, requests: s.requests, bytes });
    while (this.#samples.length > 2 && now - this.#samples[1]!.at >= 2000) this.#samples.shift();
    const first = this.#samples[0]!;
    const window = (now - first.at) / 1000;
    const recent = `${rate(s.requests - first.requests, window)} req/s, ${bytesRate(bytes - first.bytes, window)}`;
    const total = s.lookedUpChunks;
    const extra = this.#options.extra?.() ?? '';
    return (
      `[${elapsed.toFixed(0).padStart(3)}s/${this.#options.durationS}s] ${count(s.requests)} req (${recent}) ` +
      `hits L1 ${percent(s.l1Hits, total)} L2 ${percent(s.l2Hits, total)} miss ${percent(s.misses, total)}` +
      (s.failedRequests > 0 ? ` errors ${count(s.failedRequests)}` : '') +
      (extra ? ` | ${extra}` : '')
    );
  }

  #draw(): void {
    const text = this.line();
    if (this.#tty) {
      const width = this.#stream.columns ?? 120;
      this.#stream.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 1) : text}`);
    } else {
      this.#stream.write(`${text}\n`);
    }
  }
}
