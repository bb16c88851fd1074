export { runBench, resolveBenchOptions, selectScenarios, DEFAULT_BENCH_OPTIONS } from './runner.js';
export type { BenchOptions, ResolvedBenchOptions } from './runner.js';
export { runBenchCli, BENCH_USAGE } from './bench-command.js';
export { markdownReport, markdownTable, goalSummary } from './report/markdown.js';
export type { BenchReport, ScenarioResult, SubjectResult, ScenarioStatus, GoalKind } from './report/bench-report.js';
export type { MachineInfo } from './report/machine.js';
export type { Spread } from './stats.js';
export { LOWER_IS_BETTER_UNITS } from './scenario.js';
export type { BenchContext, BenchMeasurement, BenchScenario } from './scenario.js';

/** Names and descriptions of the registered scenarios. */
export async function listScenarios(): Promise<{ name: string; description: string }[]> {
  const { SCENARIOS } = await import('./scenarios/index.js');
  return SCENARIOS.map((s) => ({ name: s.name, description: s.description }));
}
