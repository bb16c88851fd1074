import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort, waitFor } from '@tierkv/test-utils';
import { otlpPoints, startOtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { runCli, startCli, type RunningCli } from './helpers/run-cli.js';

/** The number in a summary row such as `│ hit ratio L2 │ 12.3% (456 chunks) │`. */
function summaryChunks(stdout: string, row: string): number {
  const match = new RegExp(`│ ${row}\\s+│ [0-9.]+% \\(([0-9,]+) chunks\\)`).exec(stdout);
  if (!match) throw new Error(`summary row "${row}" not found in:\n${stdout}`);
  return Number(match[1]!.replace(/,/g, ''));
}

describe('tierkv demo (child process)', function () {
  this.timeout(90_000);
  let dir: string;
  let running: RunningCli | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-demo-'));
  });
  afterEach(() => {
    running?.kill();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the workload, serves tierkv_ metrics while running, prints the summary and exits 0', async () => {
    const metricsPort = await freePort();
    // A small L1 makes the working set spill to the filesystem L2 within seconds.
    running = startCli(
      ['demo', '--duration', '4', '--clients', '2', '--l1-size', '4MiB', '--sessions', '8', '--metrics-port', String(metricsPort), '--data-dir', join(dir, 'data')],
      { cwd: dir },
    );
    const cli = running;
    const scrape = await waitFor(
      async () => {
        if (cli.child.exitCode !== null) throw new Error(`demo exited early (${cli.child.exitCode}):\n${cli.stdout()}\n${cli.stderr()}`);
        try {
          const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
          const body = await res.text();
          // Wait for the lookups too: the first scrape can come before any request asked the controller.
          const lookups = Number(/^tierkv_controller_lookup_duration_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(body)?.[1] ?? 0);
          return res.ok && /^tierkv_server_requests_total\{/m.test(body) && lookups > 0 ? body : undefined;
        } catch {
          return undefined;
        }
      },
      'the demo to serve tierkv_ metrics',
      30_000,
      100,
    );
    for (const family of ['tierkv_server_requests_total', 'tierkv_l1_memory_used_bytes', 'tierkv_l2_stored_total', 'tierkv_client_requests_total', 'tierkv_controller_kv_pool_keys']) {
      expect(scrape, family).to.match(new RegExp(`^${family}[{ ]`, 'm'));
    }
    // Each request first asks the controller's lookup (as a router would), so its latency fills.
    const lookups = Number(/^tierkv_controller_lookup_duration_seconds_count(?:\{[^}]*\})? ([0-9.e+]+)/m.exec(scrape)?.[1] ?? 0);
    expect(lookups, 'tierkv_controller_lookup_duration_seconds_count').to.be.greaterThan(0);

    const result = await cli.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('tierkv demo summary');
    expect(result.stdout).to.match(/│ requests\s+│ [1-9][0-9,]* \(/);
    expect(result.stdout).to.contain('every retrieved byte matched');
    expect(result.stdout).to.contain(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(summaryChunks(result.stdout, 'hit ratio L1')).to.be.greaterThan(0);
    expect(summaryChunks(result.stdout, 'hit ratio L2'), 'the filesystem L2 served hits').to.be.greaterThan(0);
    expect(result.stdout).to.match(/│ L2 fs usage\s+│ /);
    // Not a terminal: plain progress lines, no carriage returns.
    expect(result.stdout).to.not.contain('\r');
  });

  it('the heavy example (16 MiB L1, 8 clients, --fresh) retries BUSY to 0 failed requests, shows the converged controller view, and --clean removes its data', async () => {
    const dataDir = join(dir, 'data');
    running = startCli(
      ['demo', '--l1-size', '16MiB', '--clients', '8', '--fresh', '--duration', '5', '--metrics-port', '0', '--data-dir', dataDir, '--clean'],
      { cwd: dir, timeoutMs: 150_000 },
    );
    const result = await running.exited;
    const all = `${result.stdout}\n${result.stderr}`;
    expect(result.code, all).to.equal(0);
    expect(result.stdout, all).to.match(/│ requests\s+│ [1-9][0-9,]* \([^)]*\), 0 failed\s+│/);
    expect(result.stdout).to.contain('every retrieved byte matched');
    // Read after convergence: the controller's count for this server equals L1's.
    const view = /│ controller\s+│ ([0-9]+) chunks tracked \(L1 holds ([0-9]+)\)\s+│/.exec(result.stdout);
    expect(view, all).to.not.equal(null);
    expect(Number(view![1])).to.equal(Number(view![2]));
    expect(Number(view![2])).to.be.greaterThan(0);
    const routed = /│ routed by controller\s+│ ([0-9,]+) lookups/.exec(result.stdout);
    expect(Number(routed?.[1]?.replace(/,/g, '') ?? 0), all).to.be.greaterThan(0);
    // The instance id carries the port the server bound, never :0.
    const id = /│ instance id\s+│ tierkv-server@\S+:([0-9]+)\s+│/.exec(result.stdout);
    expect(id, all).to.not.equal(null);
    expect(Number(id![1])).to.be.greaterThan(0);
    expect(existsSync(join(dataDir, 'demo-l2')), '--clean removed the L2 files').to.equal(false);
    expect(existsSync(dataDir), '--clean removed the emptied data dir').to.equal(false);
  });

  it('OTEL_METRICS_EXPORTER=prometheus,otlp exports both ways (OTLP push arrives, Prometheus answers)', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const metricsPort = await freePort();
      running = startCli(['demo', '--duration', '2', '--clients', '1', '--metrics-port', String(metricsPort), '--data-dir', join(dir, 'data')], {
        cwd: dir,
        env: {
          OTEL_METRICS_EXPORTER: 'prometheus,otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace(/\/v1\/metrics$/, ''),
          OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
          // With an OTLP endpoint set, traces go there too; this receiver takes metrics only.
          OTEL_TRACES_EXPORTER: 'none',
        },
      });
      const cli = running;
      await waitFor(
        async () => {
          if (cli.child.exitCode !== null) throw new Error(`demo exited early:\n${cli.stdout()}\n${cli.stderr()}`);
          const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
          return res?.ok && /^tierkv_server_requests_total\{/m.test(await res.text());
        },
        'the Prometheus endpoint',
        30_000,
        100,
      );
      const result = await cli.exited;
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/metrics \(OTLP push\)/);
      // The final export on shutdown arrives at the latest.
      await receiver.waitForExports(1, 10_000);
      expect(receiver.errors).to.deep.equal([]);
      const points = receiver.exports.flatMap((e) => otlpPoints(e.request));
      const requests = points.filter((p) => p.metric === 'tierkv.server.requests').reduce((a, p) => a + p.value, 0);
      expect(requests, 'tierkv.server.requests via OTLP').to.be.greaterThan(0);
    } finally {
      await receiver.close();
    }
  });

  it('fails with a clear message when the metrics port is taken', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const r = await runCli(['demo', '--duration', '1', '--metrics-port', String(port), '--data-dir', join(dir, 'data')], { cwd: dir });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain(`127.0.0.1:${port}`);
      expect(r.stderr).to.contain('--metrics-port');
      expect(r.stderr).to.not.match(/\n\s+at /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
