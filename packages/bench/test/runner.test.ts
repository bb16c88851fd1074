import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchScenario } from '../src/scenario.js';
import { globToRegExp, resolveBenchOptions, runBench, selectScenarios, summarize } from '../src/runner.js';

const scenario = (name: string, run: BenchScenario['run'], extra: Partial<BenchScenario> = {}): BenchScenario => ({
  name,
  description: `${name} for tests`,
  run,
  ...extra,
});

describe('runner', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-runner-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('selects scenarios by glob', () => {
    const all = ['l1.bandwidth', 'l1.small-ops', 'fs-l2.store', 'core.token-hashing'].map((n) => scenario(n, async () => []));
    expect(selectScenarios(all, ['l1.*']).map((s) => s.name)).to.deep.equal(['l1.bandwidth', 'l1.small-ops']);
    expect(selectScenarios(all, ['core.*,fs-l2.?tore']).map((s) => s.name)).to.deep.equal(['fs-l2.store', 'core.token-hashing']);
    expect(selectScenarios(all, []).length).to.equal(4);
    expect(globToRegExp('a.b').test('axb')).to.equal(false);
  });

  it('uses short defaults in quick mode and rejects a bad repeat count', () => {
    expect(resolveBenchOptions({ quick: true })).to.include({ repeat: 1, warmup: 0 });
    expect(resolveBenchOptions({})).to.include({ repeat: 5, warmup: 1 });
    expect(() => resolveBenchOptions({ repeat: 0 })).to.throw(RangeError, /repeat/);
  });

  it('computes paired ratios oriented so that higher is better, and goal verdicts', () => {
    const runs = [
      [
        { subject: 'limit', value: 100, unit: 'B/s' as const },
        { subject: 'tierkv', value: 90, unit: 'B/s' as const, reference: 'limit', goal: 0.8 },
        { subject: 'raw latency', value: 2, unit: 's' as const },
        { subject: 'latency', value: 4, unit: 's' as const, reference: 'raw latency', goal: 0.8 },
        { subject: 'bytes/chunk', value: 30, unit: 'B/chunk' as const, goal: 32 },
        { subject: 'events', value: 5e5, unit: 'events/s' as const, goal: 1e6 },
      ],
      [
        { subject: 'limit', value: 200, unit: 'B/s' as const },
        { subject: 'tierkv', value: 100, unit: 'B/s' as const, reference: 'limit', goal: 0.8 },
        { subject: 'raw latency', value: 2, unit: 's' as const },
        { subject: 'latency', value: 4, unit: 's' as const, reference: 'raw latency', goal: 0.8 },
        { subject: 'bytes/chunk', value: 36, unit: 'B/chunk' as const, goal: 32 },
        { subject: 'events', value: 5e5, unit: 'events/s' as const, goal: 1e6 },
      ],
    ];
    const out = summarize(runs);
    const by = (s: string) => out.find((r) => r.subject === s)!;
    expect(by('tierkv').ratio).to.include({ min: 0.5, max: 0.9, median: 0.7 });
    expect(by('tierkv')).to.include({ goalKind: 'ratio', goalMet: false });
    expect(by('latency').ratio!.median).to.equal(0.5);
    expect(by('bytes/chunk')).to.include({ goalKind: 'max', goalMet: false });
    expect(by('bytes/chunk').spread.median).to.equal(33);
    expect(by('events')).to.include({ goalKind: 'min', goalMet: false });
    expect(by('limit').goalMet).to.equal(undefined);
  });

  it('runs warm-up plus repetitions, reports a throwing scenario as failed and keeps going', async () => {
    const seen: number[] = [];
    let tornDown = 0;
    const good = scenario('good', async (ctx) => {
      seen.push(ctx.repetition ?? -1);
      return [{ subject: 'x', value: 1 + (ctx.repetition ?? 0), unit: 'ops/s' }];
    });
    const bad = scenario(
      'bad',
      async () => {
        throw new Error('broken on purpose');
      },
      { teardown: async () => void tornDown++ },
    );
    const json = join(dir, 'out', 'latest.json');
    const report = await runBench({ scenarios: [bad, good], repeat: 3, warmup: 1, budgetMs: 1, jsonFile: json, log: () => {} });
    expect(seen).to.deep.equal([0, 1, 2, 3]);
    expect(report.ok).to.equal(false);
    expect(report.scenarios.map((s) => s.status)).to.deep.equal(['failed', 'ok']);
    expect(report.scenarios[0]!.reason).to.match(/broken on purpose/);
    expect(tornDown).to.equal(1);
    expect(report.scenarios[1]!.subjects[0]!.spread).to.include({ median: 3, min: 2, max: 4, n: 3 });
    const written = JSON.parse(await readFile(json, 'utf8'));
    expect(written.scenarios).to.have.length(2);
    expect(written.machine.cores).to.be.greaterThan(0);
  });

  it('fails a scenario that returns nothing or runs past its deadline', async () => {
    const empty = scenario('empty', async () => []);
    const hang = scenario('hang', () => new Promise(() => {}));
    const report = await runBench({ scenarios: [empty, hang], repeat: 1, warmup: 0, runTimeoutMs: 50, jsonFile: false, log: () => {} });
    expect(report.scenarios.map((s) => s.status)).to.deep.equal(['failed', 'failed']);
    expect(report.scenarios[1]!.reason).to.match(/did not finish/);
  });

  it('skips a scenario whose binary is missing, unless requirements are strict (CI)', async () => {
    const needs = scenario('needs', async () => [{ subject: 'x', value: 1, unit: 'ops/s' }], {
      requires: ['definitely-not-a-binary-xyz' as 'redis-server'],
    });
    const lax = await runBench({ scenarios: [needs], strictRequirements: false, jsonFile: false, log: () => {} });
    expect(lax.scenarios[0]!.status).to.equal('skipped');
    expect(lax.ok).to.equal(true);
    const strict = await runBench({ scenarios: [needs], strictRequirements: true, jsonFile: false, log: () => {} });
    expect(strict.scenarios[0]!.status).to.equal('failed');
    expect(strict.ok).to.equal(false);
  });

  it('throws when no scenario matches --only', async () => {
    const err = await runBench({ scenarios: [scenario('a', async () => [])], only: ['zzz'], jsonFile: false, log: () => {} }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RangeError);
  });
});
