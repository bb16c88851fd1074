// First step of `npm start` and `npm test`: installs the dependencies when they are missing or
// older than package-lock.json (npm ci), then builds (tsc -b, incremental), saying what it does.
// Plain Node with no dependencies, so it runs on a fresh clone with only Node and npm.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function step(what, command, args) {
  const started = Date.now();
  process.stderr.write(`tierkv: ${what}…\n`);
  const run = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(`tierkv: ${what} failed (${run.error?.message ?? `exit ${run.status}`})\n`);
    process.exit(run.status ?? 1);
  }
  process.stderr.write(`tierkv: ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

// npm records what it installed in node_modules/.package-lock.json; older than the lock file
// (or missing) means the install is missing or stale.
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  step('installing dependencies (npm ci)', npm, ['ci', '--no-fund', '--no-audit']);
}
step('building (tsc -b, incremental)', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);
