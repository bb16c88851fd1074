import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The first ```ts block under "## Embedded in a service" in README.md, as written there. */
export function readmeExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.indexOf('## Embedded in a service');
  expect(section, 'README has an "Embedded in a service" section').to.be.greaterThan(-1);
  const open = readme.indexOf('```ts\n', section);
  const close = readme.indexOf('\n```', open + 6);
  return readme.slice(open + 6, close + 1);
}

// Runs the README's embedding example exactly as written: if this breaks, the README is wrong.
describe('README embedding example', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tierkv-readme-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written: stores, reads back, leases in place, and writes through to ./.tierkv/l2', () => {
    // Inside node_modules so the example's imports resolve to this checkout's packages.
    const cache = join(root, 'node_modules', '.cache', 'tierkv-readme');
    mkdirSync(cache, { recursive: true });
    const file = join(cache, 'example.mts');
    writeFileSync(file, readmeExample());
    // tsx by URL: the example runs from an empty directory, where a bare 'tsx' would not resolve.
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, file], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('stored 4 chunks, read back 4');
    expect(run.stdout).to.include('leased 2 chunks in place, first byte 1');
    expect(run.stdout).to.include('reserved 0');
    const l2 = join(dir, '.tierkv', 'l2');
    expect(existsSync(l2)).to.equal(true);
    const files = readdirSync(l2, { recursive: true }).filter((f) => String(f).endsWith('.kv') || /[0-9a-f]{16,}/.test(String(f)));
    expect(files.length, 'chunk files in the fs L2').to.be.at.least(4);
  });
});
