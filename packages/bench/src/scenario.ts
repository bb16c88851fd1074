/**
 * The contract every benchmark scenario implements. A scenario measures its subject and the
 * reference it is compared to (a physical limit or a peer library) in the same run, and reports
 * both; the runner repeats it, takes medians and spreads, and computes the ratios.
 *
 * A scenario file exports one or more `BenchScenario` values (any export name; arrays work too)
 * and is listed in `scenarios/index.ts`. A scenario asserts nothing about speed: it throws only
 * when the thing it measures is broken (the runner then reports it as failed).
 */
export interface BenchContext {
  /** `--quick`: run briefly, only to prove the scenario works. */
  readonly quick: boolean;
  /** Scratch directory, removed after the run. */
  readonly tmpDir: string;
  /** Progress/log line (not part of the results). */
  log(message: string): void;
  /**
   * 0 for the warm-up run (its measurements are discarded), then 1..N. Optional so contexts built
   * by hand (tests) need not set it.
   */
  readonly repetition?: number;
  /**
   * Suggested measuring time per subject in milliseconds (short with `--quick`); scenarios that
   * loop until a time budget is spent should use it. See `timing.ts`.
   */
  readonly budgetMs?: number;
}

/** Units whose smaller values are better; every other unit is higher-is-better. */
export const LOWER_IS_BETTER_UNITS: ReadonlySet<BenchMeasurement['unit']> = new Set(['s', 'B', 'B/chunk']);

/** One measured figure of one repetition. */
export interface BenchMeasurement {
  /** What was measured, e.g. `tierkv L1 write+read 1 MiB` or `Uint8Array.set 1 MiB`. */
  readonly subject: string;
  /** Higher-is-better figures use ops/s or bytes/s; lower-is-better use seconds or bytes. */
  readonly value: number;
  readonly unit: 'ops/s' | 'B/s' | 's' | 'B' | 'B/chunk' | 'events/s';
  /** The subject this one is compared to (its ratio = value / reference value, or inverse for lower-is-better). */
  readonly reference?: string;
  /**
   * With `reference`: the minimum ratio, e.g. 0.8 for "≥ 0.8 of memcpy" (ratios are oriented so
   * that higher is always better). Without `reference`: an absolute bound on the value itself,
   * a minimum for higher-is-better units (`1e6` events/s) and a maximum for lower-is-better ones
   * (`32` B/chunk).
   */
  readonly goal?: number;
  /** A short remark shown in the report (e.g. the workload size). */
  readonly note?: string;
}

export interface BenchScenario {
  /** Stable id: `l1.bandwidth`, `controller.lookup`. */
  readonly name: string;
  readonly description: string;
  /** Names and versions of peer libraries this scenario compares against, for the report header. */
  readonly peers?: readonly string[];
  /** Resources the scenario needs; the runner skips it (and says why) if they are missing outside CI. */
  readonly requires?: readonly ('redis-server')[];
  /** Called once before the warm-up run (start servers, fill caches). */
  setup?(ctx: BenchContext): Promise<void>;
  /** Runs one repetition and returns its measurements. */
  run(ctx: BenchContext): Promise<BenchMeasurement[]>;
  /** Called once after the last run, also when a run failed (stop servers, close what setup opened). */
  teardown?(ctx: BenchContext): Promise<void>;
}
