/** Counters the demo's clients update per request; the progress line and the summary read them. */
export class DemoStats {
  requests = 0;
  failedRequests = 0;
  /** Chunks of requested prompts, by where they were found. */
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  storedChunks = 0;
  bytesRetrieved = 0;
  bytesStored = 0;
  verifyFailures = 0;
  /** BUSY replies retried (after backoff); a request fails only if its retries run out. */
  busyRetries = 0;
  /** Controller lookups made to route requests, and the chunks the chosen holder held per the controller. */
  routeLookups = 0;
  routeLookupErrors = 0;
  routePredictedChunks = 0;
  routeLookupMs = 0;
  /**
   * `--vllm`: score requests asked (and failed, and their time); requests sent to a best-scored
   * server (one that held at least block 0), the chunks the scores said it held, and how many of
   * those it then had ready (the hits of the best-scored worker).
   */
  scoreRequests = 0;
  scoreErrors = 0;
  scoreMs = 0;
  scoredRoutes = 0;
  scorePredictedChunks = 0;
  scoreHitChunks = 0;
  /** Requests per server (index = server), when there are several. */
  readonly serverRequests: number[] = [];
  /** The first few error messages, for the summary. */
  readonly errors: string[] = [];
  readonly #latenciesMs: number[] = [];
  #seen = 0;
  readonly #maxSamples: number;
  readonly startedAt: number;

  constructor(startedAt = performance.now(), maxSamples = 20_000) {
    this.startedAt = startedAt;
    this.#maxSamples = maxSamples;
  }

  recordLatency(ms: number): void {
    // Reservoir sampling keeps memory bounded on long runs.
    this.#seen++;
    if (this.#latenciesMs.length < this.#maxSamples) this.#latenciesMs.push(ms);
    else {
      const slot = Math.floor(Math.random() * this.#seen);
      if (slot < this.#maxSamples) this.#latenciesMs[slot] = ms;
    }
  }

  recordError(err: unknown): void {
    this.failedRequests++;
    if (this.errors.length < 5) this.errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }

  get lookedUpChunks(): number {
    return this.l1Hits + this.l2Hits + this.misses;
  }

  /** Latency percentile in ms (p in [0, 100]), or undefined before the first request. */
  latencyPercentile(p: number): number | undefined {
    if (this.#latenciesMs.length === 0) return undefined;
    const sorted = [...this.#latenciesMs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }
}
