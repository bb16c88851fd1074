/**
 * The contract every benchmark scenario implements. A scenario measures its subject and the
 * reference it is compared to (a physical limit or a peer library) in the same run, and reports
 * both; the runner repeats it, takes medians and spreads, and computes the ratios.
 */
export interface BenchContext {
  /** `--quick`: run briefly, only to prove the scenario works. */
  readonly quick: boolean;
  /** Scratch directory, removed after the run. */
  readonly tmpDir: string;
  /** Progress/log line (not part of the results). */
  log(message: string): void;
}

/** One measured figure of one repetition. */
export interface BenchMeasurement {
  /** What was measured, e.g. `tierkv L1 write+read 1 MiB` or `Uint8Array.set 1 MiB`. */
  readonly subject: string;
  /** Higher-is-better figures use ops/s or bytes/s; lower-is-better use seconds or bytes. */
  readonly value: number;
  readonly unit: 'ops/s' | 'B/s' | 's' | 'B' | 'B/chunk' | 'events/s';
  /** The subject this one is compared to (its ratio = value / reference value, or inverse for lower-is-better). */
  readonly reference?: string;
  /** The goal for the ratio against `reference`, e.g. 0.8 for "≥ 0.8 of memcpy". */
  readonly goal?: number;
}

export interface BenchScenario {
  /** Stable id: `l1.bandwidth`, `controller.lookup`. */
  readonly name: string;
  readonly description: string;
  /** Names and versions of peer libraries this scenario compares against, for the report header. */
  readonly peers?: readonly string[];
  /** Resources the scenario needs; the runner skips it (and says why) if they are missing outside CI. */
  readonly requires?: readonly ('redis-server')[];
  /** Runs one repetition and returns its measurements. */
  run(ctx: BenchContext): Promise<BenchMeasurement[]>;
}
