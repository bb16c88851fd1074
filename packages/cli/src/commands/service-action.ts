import type { Command } from 'commander';
import { waitForShutdownSignal } from '../runtime/shutdown-signal.js';

/**
 * The action of a long-running command (`tierkv server`, `tierkv controller`): print the resolved
 * configuration and stop with `--print-config`; otherwise start the stack, run until SIGTERM/SIGINT,
 * and close it (drains, flushes, final metric export).
 */
export async function runService<C>(
  cmd: Command,
  label: string,
  config: C,
  start: (config: C) => Promise<{ close(): Promise<void>; forcedExit?(): string | undefined }>,
): Promise<void> {
  if (cmd.opts().printConfig) {
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return;
  }
  // Listening before startup: a signal while starting still ends in a clean shutdown.
  let stack: Awaited<ReturnType<typeof start>> | undefined;
  const signalled = waitForShutdownSignal({
    onSecondSignal: () => {
      // Exiting mid-flush loses what the stack still holds: say how much, never silently.
      const lost = stack?.forcedExit?.();
      process.stderr.write(`${label}: second signal, exiting now${lost ? `: ${lost}` : ''}\n`);
      process.exit(130);
    },
  });
  stack = await start(config);
  const signal = await signalled;
  process.stdout.write(`${label}: ${signal === 'abort' ? 'stopping' : `${signal} received`}, shutting down\n`);
  await stack.close();
  process.stdout.write(`${label}: stopped\n`);
}
