import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBenchCommand } from './commands/bench.js';
import { registerControllerCommand } from './commands/controller.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerServerCommand } from './commands/server.js';

/** Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where a command stores its exit code (commander actions return nothing useful). */
export interface CommandResult {
  code: number;
}

/** The `tierkv` program: every subcommand registered, `--help` everywhere, `--version`. */
export function createProgram(result: CommandResult = { code: EXIT_OK }): Command {
  const program = new Command('tierkv')
    .description('tiered storage for LLM KV-cache chunks: storage server, cache controller, demo and benchmarks')
    .version(cliVersion(), '-V, --version', 'print the tierkv version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .addHelpText(
      'after',
      `
Examples:
  tierkv demo                         everything in one process, with a synthetic workload
  tierkv demo --duration 60 --clients 8
  tierkv server --l1-size 4GiB --fs-path /var/lib/tierkv --fs-budget 100GiB
  tierkv server --config tierkv.yaml
  tierkv controller --token s3cret
  tierkv server --controller-url tcp://127.0.0.1:9301
  tierkv bench --quick

Settings come from flags, then TIERKV_* environment variables, then the --config file, then
defaults. Metrics follow the standard OTEL_* variables (OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, ...).`,
    );
  registerServerCommand(program, result);
  registerControllerCommand(program, result);
  registerDemoCommand(program, result);
  registerBenchCommand(program, result);
  return program;
}

/**
 * Parses `argv` (process.argv form) and runs the chosen command; resolves with the exit code.
 * Help and version exit 0; usage errors (unknown option, missing argument) exit 2.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const result: CommandResult = { code: EXIT_OK };
  const program = createProgram(result);
  const exitOverride = (err: CommanderError): never => {
    throw err;
  };
  program.exitOverride(exitOverride);
  for (const command of program.commands) command.exitOverride(exitOverride);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, `help` and --version exit 0; help shown for a missing command, an unknown option or
      // a missing argument (commander already printed why) is a usage error.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    throw err;
  }
  return result.code;
}
