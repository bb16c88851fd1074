import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { goalSummary, markdownReport } from './report/markdown.js';
import { runBench } from './runner.js';

/** The repository root when running from a checkout (`packages/bench/dist/bench-command.js`). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BENCH_USAGE = `Usage: bench [--quick] [--only <glob>[,<glob>]] [--repeat N] [--json <file>] [--docs <file> | --no-docs] [--list]

  --quick          run every scenario briefly (1 repetition, short budgets)
  --only <glob>    only scenarios whose name matches (repeatable, comma-separated; e.g. 'l1.*')
  --repeat N       measured repetitions per scenario (default 5, quick 1)
  --warmup N       warm-up repetitions (default 1, quick 0)
  --json <file>    JSON report (default bench-results/latest.json)
  --docs <file>    Markdown file whose bench markers receive the table
                   (default docs/benchmarks.md for a full run of every scenario)
  --no-docs        do not write the Markdown table
  --list           list the scenarios and exit

Exit code 1 when a scenario failed (it never depends on speed), 2 on bad arguments.`;

/**
 * The bench command line (`npm run bench -- …`, `tierkv bench …`): runs, prints the table and
 * the goals, and returns the exit code.
 */
export async function runBenchCli(argv: readonly string[], root: string = REPO_ROOT): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        repeat: { type: 'string' },
        warmup: { type: 'string' },
        json: { type: 'string' },
        docs: { type: 'string' },
        'no-docs': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  if (values.list) {
    const { SCENARIOS } = await import('./scenarios/index.js');
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(28)} ${s.description}`);
    return 0;
  }
  const int = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} expects a non-negative integer, got ${JSON.stringify(text)}`);
    return n;
  };
  const only = values.only ?? [];
  const everything = !values.quick && only.length === 0;
  let docsFile: string | false = false;
  if (values.docs !== undefined) docsFile = resolve(values.docs);
  else if (everything && !values['no-docs']) docsFile = join(root, 'docs', 'benchmarks.md');
  try {
    const repeat = int('repeat', values.repeat);
    const warmup = int('warmup', values.warmup);
    const report = await runBench({
      quick: values.quick,
      only,
      ...(repeat !== undefined ? { repeat } : {}),
      ...(warmup !== undefined ? { warmup } : {}),
      jsonFile: values.json !== undefined ? resolve(values.json) : join(root, 'bench-results', 'latest.json'),
      docsFile,
    });
    console.log(`\n${markdownReport(report)}`);
    const goals = goalSummary(report);
    if (goals.length > 0) console.log(`Goals:\n${goals.map((l) => `  ${l}`).join('\n')}\n`);
    if (docsFile) console.log(`Table written to ${docsFile}`);
    const failed = report.scenarios.filter((s) => s.status === 'failed');
    if (failed.length > 0) {
      console.error(`${failed.length} scenario(s) failed: ${failed.map((s) => s.name).join(', ')}`);
      return 1;
    }
    return 0;
  } catch (err) {
    if (err instanceof RangeError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}
