import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// docs/cli.md, docs/redis.md and docs/benchmarks.md say `npx tierkv …`: it must work in a checkout.
describe('npx tierkv in a checkout', () => {
  it('runs the command through the bin npm linked at install time', () => {
    const run = spawnSync('npx', ['--no-install', 'tierkv', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Usage: tierkv');
  });
});
