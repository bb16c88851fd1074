import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort, waitFor } from '@tierkv/test-utils';
import { startCli, type RunningCli } from './helpers/run-cli.js';

/** The sum of every sample of `family` (any labels) in a Prometheus text scrape. */
function total(scrape: string, family: string, labels: RegExp = /.*/): number {
  let sum = 0;
  for (const m of scrape.matchAll(new RegExp(`^${family}(\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) {
    if (labels.test(m[1] ?? '')) sum += Number(m[2]);
  }
  return sum;
}

const num = (s: string | undefined) => Number(s?.replace(/,/g, '') ?? NaN);

const PUBLISHERS = ['demo-s0', 'demo-s1'];
/** BlockStored events the controller ingested from one publisher. */
const blockStoredOf = (scrape: string, publisher: string) =>
  total(scrape, 'tierkv_controller_vllm_events_total', new RegExp(`tierkv_vllm_publisher="${publisher}",tierkv_vllm_event_type="BlockStored"`));

// Issue 12: `tierkv demo --vllm` drives a scored routing loop, so every vLLM metric has data.
describe('tierkv demo --vllm (child process)', function () {
  this.timeout(120_000);
  let dir: string;
  let running: RunningCli | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-demo-vllm-'));
  });
  afterEach(() => {
    running?.kill();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes every request by score over the servers\' published vLLM KV events; the scrape has non-zero ingest, score and publisher metrics', async () => {
    const metricsPort = await freePort();
    running = startCli(
      ['demo', '--vllm', '--duration', '8', '--clients', '2', '--sessions', '8', '--l1-size', '16MiB', '--metrics-port', String(metricsPort), '--data-dir', join(dir, 'data'), '--fresh'],
      { cwd: dir, timeoutMs: 110_000 },
    );
    const cli = running;
    // Scraped while the demo runs: wait until the controller has ingested events and answered scores.
    const scrape = await waitFor(
      async () => {
        if (cli.child.exitCode !== null) throw new Error(`demo exited early (${cli.child.exitCode}):\n${cli.stdout()}\n${cli.stderr()}`);
        try {
          const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
          const body = await res.text();
          const ready =
            total(body, 'tierkv_controller_vllm_events_total', /type="BlockStored"/) > 0 &&
            total(body, 'tierkv_controller_vllm_score_requests_total') > 0 &&
            total(body, 'tierkv_controller_vllm_score_duration_seconds_count') > 0 &&
            total(body, 'tierkv_vllm_publisher_events_published_total') > 0 &&
            // Both servers' publishers followed, and each one's events ingested: under load the
            // second publisher's first batch can trail the first one's by seconds.
            total(body, 'tierkv_controller_vllm_publishers') === 2 &&
            PUBLISHERS.every((p) => blockStoredOf(body, p) > 0);
          return res.ok && ready ? body : undefined;
        } catch {
          return undefined;
        }
      },
      'the demo to serve non-zero vLLM ingest and score metrics',
      60_000,
      100,
    );
    // Both servers' publishers are followed, and each one's events were ingested.
    expect(total(scrape, 'tierkv_controller_vllm_publishers')).to.equal(2);
    for (const publisher of PUBLISHERS) expect(blockStoredOf(scrape, publisher), publisher).to.be.greaterThan(0);
    expect(total(scrape, 'tierkv_controller_vllm_blocks', /tierkv_vllm_medium="cpu"/)).to.be.greaterThan(0);
    expect(total(scrape, 'tierkv_vllm_publisher_batches_published_total')).to.be.greaterThan(0);
    // Every vLLM family has series (the error and gap counters at 0 in a healthy run).
    for (const family of [
      'tierkv_controller_vllm_decode_errors_total',
      'tierkv_controller_vllm_seq_gaps_total',
      'tierkv_controller_vllm_replays_total',
      'tierkv_controller_vllm_views_cleared_total',
      'tierkv_vllm_publisher_blocks_published_total',
      'tierkv_vllm_publisher_blocks_dropped_total',
      'tierkv_vllm_publisher_replay_requests_total',
      'tierkv_vllm_publisher_replay_batches_total',
      'tierkv_vllm_publisher_replay_retained',
    ]) {
      expect(scrape, family).to.match(new RegExp(`^${family}[{ ]`, 'm'));
    }

    const result = await cli.exited;
    const all = `${result.stdout}\n${result.stderr}`;
    expect(result.code, all).to.equal(0);
    expect(result.stdout).to.contain('every retrieved byte matched');
    expect(result.stdout, all).to.match(/│ requests\s+│ [1-9][0-9,]* \([^)]*\), 0 failed\s+│/);
    const requests = num(/│ requests\s+│ ([0-9,]+) /.exec(result.stdout)?.[1]);
    // The scored-routing line: one score per request, most sent to a best-scored server that then had the chunks.
    const line = /│ routed by score\s+│ ([0-9,]+) scores \([^)]*\), ([0-9,]+) requests to the best-scored server, which had ([0-9,]+) of the ([0-9,]+) chunks scored ready/.exec(result.stdout);
    expect(line, all).to.not.equal(null);
    const [scores, toBest, hit, predicted] = [num(line![1]), num(line![2]), num(line![3]), num(line![4])];
    expect(scores).to.equal(requests);
    expect(toBest).to.be.greaterThan(0);
    expect(predicted).to.be.greaterThan(0);
    expect(hit).to.be.greaterThan(0);
    expect(hit).to.be.at.most(predicted);
    // Two servers (the --vllm default), both served requests, and both show a vLLM view.
    const byServer = /│ requests by server\s+│ s0 ([0-9,]+), s1 ([0-9,]+)\s+│/.exec(result.stdout);
    expect(byServer, all).to.not.equal(null);
    expect(num(byServer![1]) + num(byServer![2])).to.equal(requests);
    expect(result.stdout).to.match(/│ vLLM view s0\s+│ [0-9,]+ batches published, [1-9][0-9,]* events ingested/);
    expect(result.stdout).to.match(/│ vLLM view s1\s+│ [0-9,]+ batches published, [1-9][0-9,]* events ingested/);
  });

  it('refuses --vllm with --no-controller', async () => {
    running = startCli(['demo', '--vllm', '--no-controller', '--duration', '1', '--data-dir', join(dir, 'data')], { cwd: dir });
    const result = await running.exited;
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--vllm');
    expect(result.stderr).to.contain('--no-controller');
  });
});
