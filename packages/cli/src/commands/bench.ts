import { UnavailableError } from '@tierkv/core';
import type { Command } from 'commander';
import type { CommandResult } from '../cli.js';

/** What `tierkv bench` needs from `@tierkv/bench` (a private workspace package: present in a checkout only). */
interface BenchModule {
  runBenchCli(argv: readonly string[]): Promise<number>;
}

const BENCH_PACKAGE = '@tierkv/bench';

async function loadBench(): Promise<BenchModule> {
  try {
    // A variable specifier keeps the published CLI free of a hard dependency on the private bench package.
    const specifier = BENCH_PACKAGE;
    return (await import(specifier)) as BenchModule;
  } catch (err) {
    throw new UnavailableError(
      `the benchmark suite (${BENCH_PACKAGE}) is not installed; it ships with the tierkv repository: run \`npm run bench\` in a checkout (${(err as Error).message})`,
    );
  }
}

export function registerBenchCommand(program: Command, result: CommandResult): Command {
  return program
    .command('bench')
    .description('run the benchmark suite (packages/bench): every scenario next to its reference, report in docs/benchmarks.md')
    .option('--quick', 'run every scenario briefly (1 repetition, short budgets)')
    .option('--only <globs>', "only scenarios whose name matches, comma-separated (e.g. 'l1.*,server.*')")
    .option('--repeat <n>', 'measured repetitions per scenario (default 5, quick 1)')
    .option('--warmup <n>', 'warm-up repetitions (default 1, quick 0)')
    .option('--json <file>', 'JSON report (default bench-results/latest.json)')
    .option('--docs <file>', 'Markdown file whose bench markers receive the table (default docs/benchmarks.md for a full run)')
    .option('--no-docs', 'do not write the Markdown table')
    .option('--list', 'list the scenarios and exit')
    .addHelpText('after', '\nExit code 1 when a scenario failed (never because of speed), 2 on bad arguments.')
    .action(async (opts: Record<string, unknown>, command: Command) => {
      const argv: string[] = [];
      const source = (name: string) => command.getOptionValueSource(name) === 'cli';
      if (opts.quick) argv.push('--quick');
      if (typeof opts.only === 'string') argv.push('--only', opts.only);
      for (const name of ['repeat', 'warmup', 'json'] as const) {
        if (typeof opts[name] === 'string') argv.push(`--${name}`, opts[name] as string);
      }
      if (source('docs')) argv.push(...(opts.docs === false ? ['--no-docs'] : ['--docs', String(opts.docs)]));
      if (opts.list) argv.push('--list');
      const bench = await loadBench();
      result.code = await bench.runBenchCli(argv);
    });
}
