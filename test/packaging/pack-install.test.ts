import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readmeExample } from '../docs/readme-example.test.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 300_000, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${String(r.stdout).slice(-3000)}\n${String(r.stderr).slice(-3000)}`);
  return String(r.stdout);
}

/** The workspace packages that get published (not private). */
function publishable(): { name: string; dir: string }[] {
  return readdirSync(join(root, 'packages'))
    .map((d) => ({ dir: join(root, 'packages', d), json: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { name: string; private?: boolean } }))
    .filter((p) => !p.json.private)
    .map((p) => ({ name: p.json.name, dir: p.dir }));
}

// What a user gets from npm: every package packed, installed into a fresh strict TypeScript app
// (nodenext, noUncheckedIndexedAccess), and the README's embedding example compiled and run there.
describe('packed tarballs in a fresh app', function () {
  this.timeout(600_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'tierkv-pack-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pack every package (no build info, sources beside their maps, a LICENSE) and run the README example from them', () => {
    const tarballs = join(dir, 'tarballs');
    mkdirSync(tarballs);
    const deps: Record<string, string> = {};
    for (const p of publishable()) {
      const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tarballs], { cwd: p.dir })) as { filename: string; files: { path: string }[] }[];
      const files = out[0]!.files.map((f) => f.path);
      expect(files, `${p.name} ships no .tsbuildinfo`).to.not.satisfy((fs: string[]) => fs.some((f) => f.endsWith('.tsbuildinfo')));
      expect(files, `${p.name} ships a LICENSE`).to.include('LICENSE');
      expect(files.some((f) => f.startsWith('dist/') && f.endsWith('.js')), `${p.name} ships a built dist/`).to.equal(true);
      for (const map of files.filter((f) => f.endsWith('.js.map'))) {
        const source = (JSON.parse(readFileSync(join(p.dir, map), 'utf8')) as { sources: string[] }).sources[0]!;
        expect(files, `${p.name}: ${map} points at a shipped source`).to.include(join(dirname(map), source));
      }
      deps[p.name] = `file:${join(tarballs, out[0]!.filename)}`;
    }
    const app = join(dir, 'app');
    mkdirSync(app);
    // The example and the types it needs; @types/node and typescript from the registry (the npm
    // cache is warm after npm ci).
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'fresh-app', private: true, type: 'module', dependencies: { ...deps, '@opentelemetry/api': '^1.9.0' }, devDependencies: { typescript: rootPkg.devDependencies['typescript'], '@types/node': rootPkg.devDependencies['@types/node'] } }, null, 2),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true, outDir: 'dist', types: ['node'], skipLibCheck: false }, include: ['example.mts'] }, null, 2),
    );
    writeFileSync(join(app, 'example.mts'), readmeExample());
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
    run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app });
    const out = run(process.execPath, [join(app, 'dist', 'example.mjs')], { cwd: app });
    expect(out).to.include('stored 4 chunks, read back 4');
    expect(out).to.include('leased 2 chunks in place');
  });
});
