// The host matrix: what a user gets from npm, in a fresh app on each supported newer Node, with the
// OpenTelemetry 3.x SDK (sdk-node 0.30x, sdk-metrics 3.x) and @opentelemetry/api 1.10.
// Every publishable package is packed once; per Node version one app is installed from the
// tarballs, then each case runs in its own process (app/case.mjs):
//   start-telemetry      @tierkv/otel's startTelemetry() as the process's pipeline
//   demo                 `tierkv demo`, its /metrics endpoint scraped
//   host-first           the host's NodeSDK started, then tierkv's modules created
//   tierkv-first         tierkv's modules created and driven, then the host's NodeSDK started
// Each case checks that the full metric set the workload touches arrives (app/expected-metrics.mjs
// derives it from the installed catalog) and that no two-API-versions warning fires; the install
// itself must hold exactly one @opentelemetry/api.
// Usage: node scripts/host-matrix/run.mjs [--node 22,24] [--case <name>,…] [--keep]
// A Node binary that cannot be had (no registry, no cache) fails the run under CI=true and skips
// that Node version otherwise.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nodeBinary, NodeBinaryUnavailableError } from './node-binaries.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const CASES = ['start-telemetry', 'demo', 'host-first', 'tierkv-first'];
/** What the app installs beside the tarballs: the OpenTelemetry 3.x line. */
export const HOST_DEPENDENCIES = {
  '@opentelemetry/api': '~1.10.0',
  '@opentelemetry/sdk-metrics': '^3.1.1',
  '@opentelemetry/sdk-node': '^0.301.2',
  '@opentelemetry/sdk-trace': '^3.1.1',
};
const CASE_TIMEOUT_MS = 240_000;

const { values: args } = parseArgs({
  options: { node: { type: 'string', default: '22,24' }, case: { type: 'string', default: CASES.join(',') }, keep: { type: 'boolean', default: false } },
  strict: true,
});
const majors = args.node.split(',').map((s) => s.trim()).filter(Boolean);
const cases = args.case.split(',').map((s) => s.trim()).filter(Boolean);
for (const c of cases) if (!CASES.includes(c)) throw new Error(`--case ${c}: unknown; the cases are ${CASES.join(', ')}`);
for (const m of majors) if (!/^\d+$/.test(m)) throw new Error(`--node ${m}: give major versions, e.g. --node 22,24`);
const ci = process.env.CI === 'true';
const t0 = Date.now();
const log = (line) => console.log(`   [${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}`);

function run(command, argv, options = {}) {
  const r = spawnSync(command, argv, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 2 ** 20, ...options });
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${r.status ?? r.signal}:\n${String(r.stdout).slice(-3000)}\n${String(r.stderr).slice(-3000)}`);
  return r.stdout;
}

/** npm with one retry: a registry hiccup should not fail CI. */
function npm(argv, options) {
  try {
    return run('npm', argv, options);
  } catch (err) {
    log(`npm ${argv[0]} failed, retrying once: ${err.message.split('\n')[0]}`);
    return run('npm', argv, options);
  }
}

function publishable() {
  return readdirSync(join(root, 'packages'))
    .map((d) => ({ dir: join(root, 'packages', d), json: JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) }))
    .filter((p) => !p.json.private);
}

/** The environment of a case: none of the caller's OTEL_* settings, so every case starts alike. */
function caseEnv(nodeBin) {
  const env = { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH}` };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
  delete env.NODE_OPTIONS;
  return env;
}

/** The versions of @opentelemetry/api anywhere in the app's tree. */
function apiVersions(app, env) {
  const r = spawnSync('npm', ['ls', '@opentelemetry/api', '--all', '--json'], { cwd: app, env, encoding: 'utf8' });
  const versions = new Set();
  const walk = (node) => {
    for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
      if (name === '@opentelemetry/api' && dep.version) versions.add(dep.version);
      walk(dep);
    }
  };
  walk(JSON.parse(r.stdout || '{}'));
  return [...versions].sort();
}

function runCase(nodeBin, app, name, env) {
  return new Promise((resolve) => {
    const child = spawn(nodeBin, ['case.mjs', name], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out = (out + d).slice(-200_000)));
    child.stderr.on('data', (d) => (err = (err + d).slice(-200_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), CASE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{"case"'));
      let result;
      try {
        result = line ? JSON.parse(line) : undefined;
      } catch {
        result = undefined;
      }
      if (!result) result = { case: name, failures: [`no result line (exit ${code ?? signal})`] };
      if (code !== 0 && result.failures.length === 0) result.failures.push(`exited ${code ?? signal}`);
      if (result.failures.length > 0) result.output = `${out.slice(-4000)}\n${err.slice(-4000)}`;
      resolve(result);
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'tierkv-host-matrix-'));
const failures = [];
const rows = [];
try {
  log(`packing ${publishable().length} packages (each rebuilt by its prepack)`);
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const deps = {};
  for (const p of publishable()) {
    const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', tarballs], { cwd: p.dir }));
    deps[p.json.name] = `file:${join(tarballs, packed.filename)}`;
  }
  for (const major of majors) {
    let node;
    try {
      node = nodeBinary(major, { log });
    } catch (err) {
      if (!(err instanceof NodeBinaryUnavailableError) || ci) throw err;
      log(`SKIPPED Node ${major}: ${err.message}`);
      rows.push({ node: `${major} (skipped)`, case: '-', result: 'skipped: no Node binary' });
      continue;
    }
    const app = join(work, `app-node${major}`);
    mkdirSync(app);
    for (const f of readdirSync(join(here, 'app'))) copyFileSync(join(here, 'app', f), join(app, f));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `tierkv-host-node${major}`, private: true, type: 'module', dependencies: { ...deps, ...HOST_DEPENDENCIES } }, null, 2));
    const env = caseEnv(node.bin);
    log(`Node ${node.version}: installing the app (the tarballs, ${Object.entries(HOST_DEPENDENCIES).map(([n, v]) => `${n}@${v}`).join(', ')})`);
    // npm runs under the matrix's Node (PATH), so engine checks and native prebuilds are its own.
    npm(['install', '--no-fund', '--no-audit', '--loglevel=error', '--engine-strict'], { cwd: app, env });
    const apis = apiVersions(app, env);
    if (apis.length !== 1 || !apis[0].startsWith('1.10.')) failures.push(`Node ${major}: the app holds @opentelemetry/api ${apis.join(', ') || 'nowhere'}, expected exactly one 1.10.x`);
    for (const name of cases) {
      const r = await runCase(node.bin, app, name, env);
      const summary = r.failures.length === 0 ? `ok: ${r.received} of ${r.expected} expected metric families, pipeline sdk-metrics ${r.sdkMetrics}, api ${r.api}` : `FAILED: ${r.failures.join('; ')}`;
      log(`Node ${node.version} ${name}: ${summary}`);
      if (r.failures.length > 0) {
        failures.push(`Node ${major} ${name}: ${r.failures.join('; ')}`);
        console.log(r.output);
      }
      rows.push({ node: node.version, case: name, result: summary });
    }
  }
} finally {
  if (args.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.table(rows);
if (failures.length > 0) {
  console.error(`host matrix: ${failures.length} failure(s):\n- ${failures.join('\n- ')}`);
  process.exitCode = 1;
} else {
  log('host matrix passed');
}
