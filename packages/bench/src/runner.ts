import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LOWER_IS_BETTER_UNITS, type BenchContext, type BenchMeasurement, type BenchScenario } from './scenario.js';
import { spreadOf } from './stats.js';
import { FULL_BUDGET_MS, QUICK_BUDGET_MS } from './timing.js';
import type { BenchReport, ScenarioResult, SubjectResult } from './report/bench-report.js';
import { writeBetweenMarkers } from './report/docs-file.js';
import { DEFAULT_PEERS, hasBinary, loadAverageNow, machineInfo, peerVersion } from './report/machine.js';
import { markdownReport } from './report/markdown.js';

export interface BenchOptions {
  /** Run every scenario briefly (one repetition, short budgets): proves they work. @default false */
  quick?: boolean;
  /** Globs over scenario names (`l1.*`, `fs-l2.*`); none = all. @default [] */
  only?: readonly string[];
  /** Measured repetitions per scenario. @default 5 (1 with quick) */
  repeat?: number;
  /** Discarded warm-up repetitions before them. @default 1 (0 with quick) */
  warmup?: number;
  /** Where to write the JSON report; false for nowhere. @default 'bench-results/latest.json' */
  jsonFile?: string | false;
  /** A Markdown file whose `<!-- bench:begin -->` … `<!-- bench:end -->` block receives the table; false for none. @default false */
  docsFile?: string | false;
  /** The scenarios to choose from. @default the registry in `scenarios/index.ts` */
  scenarios?: readonly BenchScenario[];
  /** Measuring time per subject suggested to scenarios. @default 1500 (150 with quick) */
  budgetMs?: number;
  /** Deadline for one repetition (or setup/teardown); a scenario past it is reported as failed. @default 300_000 (90_000 with quick) */
  runTimeoutMs?: number;
  /** Treat a missing required binary as a failure instead of a skip. @default process.env.CI === 'true' */
  strictRequirements?: boolean;
  /** Progress lines. @default console.log */
  log?: (line: string) => void;
}

export interface ResolvedBenchOptions {
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly repeat: number;
  readonly warmup: number;
  readonly jsonFile: string | false;
  readonly docsFile: string | false;
  readonly scenarios: readonly BenchScenario[] | undefined;
  readonly budgetMs: number;
  readonly runTimeoutMs: number;
  readonly strictRequirements: boolean;
  readonly log: (line: string) => void;
}

export const DEFAULT_BENCH_OPTIONS = {
  quick: false,
  only: [] as readonly string[],
  repeat: 5,
  warmup: 1,
  jsonFile: 'bench-results/latest.json',
  docsFile: false,
  budgetMs: FULL_BUDGET_MS,
  runTimeoutMs: 300_000,
} as const;

const QUICK_OVERRIDES = { repeat: 1, warmup: 0, budgetMs: QUICK_BUDGET_MS, runTimeoutMs: 90_000 } as const;

export function resolveBenchOptions(options: BenchOptions = {}): ResolvedBenchOptions {
  const quick = options.quick ?? DEFAULT_BENCH_OPTIONS.quick;
  const base = quick ? { ...DEFAULT_BENCH_OPTIONS, ...QUICK_OVERRIDES } : DEFAULT_BENCH_OPTIONS;
  const repeat = options.repeat ?? base.repeat;
  const warmup = options.warmup ?? base.warmup;
  if (!Number.isInteger(repeat) || repeat < 1) throw new RangeError(`bench repeat must be an integer ≥ 1, got ${repeat}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`bench warmup must be an integer ≥ 0, got ${warmup}`);
  return {
    quick,
    only: options.only ?? base.only,
    repeat,
    warmup,
    jsonFile: options.jsonFile ?? base.jsonFile,
    docsFile: options.docsFile ?? base.docsFile,
    scenarios: options.scenarios,
    budgetMs: options.budgetMs ?? base.budgetMs,
    runTimeoutMs: options.runTimeoutMs ?? base.runTimeoutMs,
    strictRequirements: options.strictRequirements ?? process.env.CI === 'true',
    log: options.log ?? ((line) => console.log(line)),
  };
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The scenarios whose names match any of the globs (all of them for no globs). */
export function selectScenarios(scenarios: readonly BenchScenario[], only: readonly string[]): BenchScenario[] {
  const globs = only.flatMap((g) => g.split(',')).map((g) => g.trim()).filter(Boolean);
  if (globs.length === 0) return [...scenarios];
  const res = globs.map(globToRegExp);
  return scenarios.filter((s) => res.some((re) => re.test(s.name)));
}

let gcFn: (() => void) | undefined | null = null;

/** A full GC between scenarios so one scenario's garbage is not collected on the next one's clock. */
function collectGarbage(): void {
  if (gcFn === null) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = undefined;
    }
  }
  gcFn?.();
}

async function withDeadline<T>(what: string, ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const where = err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim();
    return `${err.name}: ${err.message}${where ? ` (${where})` : ''}`;
  }
  return String(err);
}

function validate(scenario: BenchScenario, ms: unknown): BenchMeasurement[] {
  if (!Array.isArray(ms) || ms.length === 0) throw new Error(`scenario ${scenario.name} returned no measurements`);
  for (const m of ms as BenchMeasurement[]) {
    if (typeof m?.subject !== 'string' || typeof m.value !== 'number' || !Number.isFinite(m.value)) {
      throw new Error(`scenario ${scenario.name} returned a bad measurement: ${JSON.stringify(m)}`);
    }
  }
  return ms as BenchMeasurement[];
}

/** Medians, spreads, paired ratios and goal verdicts from the repetitions' measurements. */
export function summarize(runs: readonly (readonly BenchMeasurement[])[]): SubjectResult[] {
  const order: string[] = [];
  const bySubject = new Map<string, BenchMeasurement[]>();
  for (const run of runs) {
    for (const m of run) {
      let list = bySubject.get(m.subject);
      if (!list) {
        bySubject.set(m.subject, (list = []));
        order.push(m.subject);
      }
      list.push(m);
    }
  }
  return order.map((subject) => {
    const ms = bySubject.get(subject)!;
    const last = ms[ms.length - 1]!;
    const lowerIsBetter = LOWER_IS_BETTER_UNITS.has(last.unit);
    const spread = spreadOf(ms.map((m) => m.value));
    let ratio;
    if (last.reference !== undefined) {
      const ratios: number[] = [];
      for (const run of runs) {
        const mine = run.find((m) => m.subject === subject);
        const ref = run.find((m) => m.subject === last.reference);
        if (mine && ref) ratios.push(lowerIsBetter ? ref.value / mine.value : mine.value / ref.value);
      }
      if (ratios.length > 0) ratio = spreadOf(ratios);
    }
    let goalKind: SubjectResult['goalKind'];
    let goalMet: boolean | undefined;
    if (last.goal !== undefined) {
      if (last.reference !== undefined) {
        goalKind = 'ratio';
        goalMet = ratio !== undefined && ratio.median >= last.goal;
      } else {
        goalKind = lowerIsBetter ? 'max' : 'min';
        goalMet = lowerIsBetter ? spread.median <= last.goal : spread.median >= last.goal;
      }
    }
    return {
      subject,
      unit: last.unit,
      values: ms.map((m) => m.value),
      spread,
      ...(last.reference !== undefined ? { reference: last.reference } : {}),
      ...(ratio ? { ratio } : {}),
      ...(last.goal !== undefined ? { goal: last.goal, goalKind, goalMet } : {}),
      ...(last.note !== undefined ? { note: last.note } : {}),
    };
  });
}

async function runScenario(scenario: BenchScenario, opts: ResolvedBenchOptions, tmpRoot: string): Promise<ScenarioResult> {
  const started = performance.now();
  const base = { name: scenario.name, description: scenario.description };
  const elapsed = (): number => (performance.now() - started) / 1000;
  for (const need of scenario.requires ?? []) {
    if (!hasBinary(need)) {
      const reason = `needs \`${need}\`, which is not installed`;
      if (opts.strictRequirements) return { ...base, status: 'failed', reason, repetitions: 0, durationS: elapsed(), subjects: [] };
      opts.log(`  skipped: ${reason}`);
      return { ...base, status: 'skipped', reason, repetitions: 0, durationS: elapsed(), subjects: [] };
    }
  }
  const tmpDir = await mkdtemp(join(tmpRoot, `${scenario.name.replace(/[^a-zA-Z0-9_-]/g, '_')}-`));
  const ctx = (repetition: number): BenchContext => ({
    quick: opts.quick,
    tmpDir,
    repetition,
    budgetMs: opts.budgetMs,
    log: (message) => opts.log(`  ${scenario.name}: ${message}`),
  });
  const runs: BenchMeasurement[][] = [];
  let failure: string | undefined;
  let setUp = false;
  try {
    if (scenario.setup) await withDeadline(`${scenario.name} setup`, opts.runTimeoutMs, () => scenario.setup!(ctx(0)));
    setUp = true;
    for (let i = 0; i < opts.warmup + opts.repeat; i++) {
      const repetition = i < opts.warmup ? 0 : i - opts.warmup + 1;
      const ms = await withDeadline(`${scenario.name} run ${repetition}`, opts.runTimeoutMs, () => scenario.run(ctx(repetition)));
      const valid = validate(scenario, ms);
      if (repetition > 0) runs.push(valid);
    }
  } catch (err) {
    failure = describeError(err);
  }
  if (scenario.teardown && (setUp || failure !== undefined)) {
    try {
      await withDeadline(`${scenario.name} teardown`, opts.runTimeoutMs, () => scenario.teardown!(ctx(0)));
    } catch (err) {
      failure ??= `teardown: ${describeError(err)}`;
    }
  }
  await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  if (failure !== undefined) {
    return { ...base, status: 'failed', reason: failure, repetitions: runs.length, durationS: elapsed(), subjects: summarize(runs) };
  }
  return { ...base, status: 'ok', repetitions: runs.length, durationS: elapsed(), subjects: summarize(runs) };
}

/**
 * Runs the selected scenarios one after another in this process (warm-up, then `repeat`
 * measured repetitions each), writes the JSON report and, when asked, the Markdown table, and
 * returns the report. A failing scenario is recorded (`ok: false`), never thrown.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const opts = resolveBenchOptions(options);
  const all = opts.scenarios ?? (await import('./scenarios/index.js')).SCENARIOS;
  const selected = selectScenarios(all, opts.only);
  if (selected.length === 0) {
    throw new RangeError(`no benchmark scenario matches ${opts.only.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`);
  }
  const started = performance.now();
  const date = new Date().toISOString();
  const loadAtStart = loadAverageNow();
  const tmpRoot = await mkdtemp(join(tmpdir(), 'tierkv-bench-'));
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      opts.log(`▶ ${scenario.name}: ${scenario.description}`);
      collectGarbage();
      const result = await runScenario(scenario, opts, tmpRoot);
      results.push(result);
      if (result.status === 'failed') opts.log(`  FAILED: ${result.reason}`);
      else if (result.status === 'ok') opts.log(`  done in ${result.durationS.toFixed(1)} s`);
    }
  } finally {
    await rm(tmpRoot, { recursive: true, force: true }).catch(() => undefined);
  }
  const peerNames = [...new Set([...DEFAULT_PEERS, ...selected.flatMap((s) => s.peers ?? [])])];
  const peers: Record<string, string> = {};
  for (const p of peerNames) {
    const { name, version } = peerVersion(p);
    peers[name] = version;
  }
  const report: BenchReport = {
    date,
    quick: opts.quick,
    repeat: opts.repeat,
    warmup: opts.warmup,
    machine: machineInfo(loadAtStart),
    peers,
    scenarios: results,
    durationS: (performance.now() - started) / 1000,
    ok: results.every((r) => r.status !== 'failed'),
  };
  if (opts.jsonFile) {
    await mkdir(dirname(opts.jsonFile), { recursive: true });
    await writeFile(opts.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (opts.docsFile) await writeBetweenMarkers(opts.docsFile, markdownReport(report));
  return report;
}
