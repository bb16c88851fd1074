#!/usr/bin/env node
import { runBenchCli } from './bench-command.js';

// Exit explicitly: a scenario that timed out may still hold sockets or timers open.
runBenchCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
