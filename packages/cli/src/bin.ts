#!/usr/bin/env node
import { TierkvError } from '@tierkv/core';
import { EXIT_FAILURE, EXIT_USAGE, runCli } from './cli.js';

function debugging(): boolean {
  return /tierkv/.test(process.env.NODE_DEBUG ?? '') || process.env.TIERKV_DEBUG === '1';
}

/**
 * The `tierkv` executable. Errors end here: a configuration error prints one message naming the
 * field and exits 2; any other tierkv error prints its message and exits 1; a stack trace only
 * with TIERKV_DEBUG=1 (or NODE_DEBUG=tierkv:*). The exit is explicit: a library that leaks a timer
 * or socket must not keep a finished command alive.
 */
// `tierkv demo | head` closes our stdout early: stop writing, do not crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

runCli(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof TierkvError && err.code === 'ERR_CONFIG') {
      process.stderr.write(`tierkv: invalid configuration: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tierkv: ${err instanceof TierkvError ? '' : 'unexpected error: '}${message}\n`);
    if (debugging() && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else if (!(err instanceof TierkvError)) process.stderr.write('(set TIERKV_DEBUG=1 for a stack trace)\n');
    process.exit(EXIT_FAILURE);
  },
);
