import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@tierkv/test-utils';

/** Whether a binary is on PATH. */
export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface PromQueryResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

export interface PrometheusServer {
  readonly url: string;
  /** An instant query; throws on a PromQL error. */
  query(expr: string): Promise<PromQueryResult[]>;
  /** Waits until the last scrape of every target has succeeded after `since` (ms epoch). */
  waitForScrapeAfter(since: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus on a free loopback port, scraping `targets` every `scrapeIntervalS`
 * seconds, with a throwaway config and TSDB directory (removed on stop).
 */
export async function startPrometheus(targets: readonly { host: string; port: number; path: string }[], scrapeIntervalS = 1): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tierkv-prom-'));
  const port = await freePort();
  const jobs = targets
    .map(
      (t, i) => `  - job_name: tierkv${i}
    metrics_path: ${t.path}
    static_configs:
      - targets: ['${t.host}:${t.port}']`,
    )
    .join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: ${scrapeIntervalS}s\n  scrape_timeout: ${scrapeIntervalS}s\nscrape_configs:\n${jobs}\n`);
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`prometheus exited: ${stderr}`);
        try {
          return (await fetch(`${url}/-/ready`)).ok;
        } catch {
          return false;
        }
      },
      'prometheus to be ready',
      20_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const query = async (expr: string): Promise<PromQueryResult[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: unknown } };
    if (body.status !== 'success') throw new Error(`PromQL ${expr}: ${body.error ?? res.status}`);
    const { resultType, result } = body.data!;
    if (resultType === 'vector') return result as PromQueryResult[];
    if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
    throw new Error(`PromQL ${expr}: unexpected ${resultType}`);
  };

  return {
    url,
    query,
    async waitForScrapeAfter(since, timeoutMs = 20_000) {
      await waitFor(
        async () => {
          const res = await fetch(`${url}/api/v1/targets?state=active`);
          const body = (await res.json()) as { data: { activeTargets: { health: string; lastScrape: string; lastError: string }[] } };
          const active = body.data.activeTargets;
          return active.length === targets.length && active.every((t) => t.health === 'up' && Date.parse(t.lastScrape) > since);
        },
        'prometheus to scrape every target',
        timeoutMs,
        200,
      );
    },
    stop,
  };
}
