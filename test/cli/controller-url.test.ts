import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
import { freePort, waitFor } from '@tierkv/test-utils';
import { startCli, type RunningCli } from './helpers/run-cli.js';

interface WorkerRow {
  instanceId: string;
  keys: number;
  sync: { state: string } | null;
}

describe('tierkv server with only --controller-url (child processes)', function () {
  this.timeout(90_000);
  let dir: string;
  const running: RunningCli[] = [];
  let client: TierkvClient | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-controller-url-'));
  });
  afterEach(() => {
    client?.close();
    client = undefined;
    for (const r of running.splice(0)) r.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const waitForLine = (cli: RunningCli, pattern: RegExp, what: string) =>
    waitFor(
      () => {
        if (cli.child.exitCode !== null) throw new Error(`${what}: process exited (${cli.child.exitCode}):\n${cli.stdout()}\n${cli.stderr()}`);
        return pattern.exec(cli.stdout());
      },
      what,
      30_000,
    );

  it('against a controller on non-default ports, the server (port 0) converges to the controller\'s exact key count', async () => {
    // The setup: PULL and ROUTER on other ports than 9300/9301, and no --controller-pull-url.
    const [pullPort, routerPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const controller = startCli(['controller', '--pull-port', String(pullPort), '--router-port', String(routerPort), '--http-port', String(httpPort)], { cwd: dir });
    running.push(controller);
    await waitForLine(controller, /tierkv controller: http http:\/\/127\.0\.0\.1:\d+/, 'the controller to listen');

    const server = startCli(
      ['server', '--port', '0', '--http-port', '0', '--l1-size', '16MiB', '--fs-path', join(dir, 'l2'), '--controller-url', `tcp://127.0.0.1:${routerPort}`],
      { cwd: dir },
    );
    running.push(server);
    const port = Number((await waitForLine(server, /serving tcp:\/\/127\.0\.0\.1:(\d+)/, 'the server to listen'))[1]);
    const statusUrl = `${(await waitForLine(server, /http (http:\/\/127\.0\.0\.1:\d+)\/healthz/, 'the server http line'))[1]}/status`;
    const instanceId = `tierkv-server@${hostname()}:${port}`;

    client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout: MemoryLayout.bytes(1024), timeoutMs: 10_000 });
    const tokens = Array.from({ length: 4 * 40 }, (_, i) => i + 1);
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor(tokens, { modelName: 'm' });
    await client.store(keys, keys.map(() => new Uint8Array(1024)));

    const l1Objects = async () => {
      const status = (await (await fetch(statusUrl)).json()) as { tiers: { tier: string; objects: number }[] };
      return status.tiers.find((t) => t.tier === 'l1')!.objects;
    };
    expect(await l1Objects()).to.equal(40);
    const row = await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${httpPort}/workers`)).json()) as { workers: WorkerRow[] };
        const w = body.workers.find((x) => x.instanceId === instanceId);
        return w && w.keys === (await l1Objects()) ? w : undefined;
      },
      `the controller to track as many chunks for ${instanceId} as its L1 holds`,
      30_000,
      100,
    );
    expect(row.keys).to.equal(40);
    expect(server.stderr(), 'no delivery warnings').to.not.match(/not getting through|batches reached the controller/);

    server.child.kill('SIGTERM');
    expect((await server.exited).code).to.equal(0);
    controller.child.kill('SIGINT');
    expect((await controller.exited).code).to.equal(0);
  });

  it('a wrong --controller-pull-url is a warning on stderr, and the controller fails the stalled sync', async () => {
    const [pullPort, routerPort, httpPort, wrongPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const controller = startCli(
      ['controller', '--pull-port', String(pullPort), '--router-port', String(routerPort), '--http-port', String(httpPort), '--sync-timeout', '1000'],
      { cwd: dir },
    );
    running.push(controller);
    await waitForLine(controller, /tierkv controller: http http:\/\/127\.0\.0\.1:\d+/, 'the controller to listen');
    const server = startCli(
      [
        'server', '--port', '0', '--http-port', '0', '--l1-size', '16MiB', '--fs-path', join(dir, 'l2'),
        '--controller-url', `tcp://127.0.0.1:${routerPort}`, '--controller-pull-url', `tcp://127.0.0.1:${wrongPort}`,
      ],
      { cwd: dir },
    );
    running.push(server);
    const port = Number((await waitForLine(server, /serving tcp:\/\/127\.0\.0\.1:(\d+)/, 'the server to listen'))[1]);
    client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout: MemoryLayout.bytes(1024), timeoutMs: 10_000 });
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor([1, 2, 3, 4, 5, 6, 7, 8], { modelName: 'm' });
    await client.store(keys, keys.map(() => new Uint8Array(1024)));

    // Without DEBUG: the worker's warning names the endpoint; the controller's names the stalled sync.
    await waitFor(() => server.stderr().includes(`no connection to its PULL endpoint tcp://127.0.0.1:${wrongPort}`), 'the server to warn', 30_000, 100);
    // The dropped events leave a gap; the controller asks for a sync whose batches never arrive.
    await waitFor(() => /sync \S+ of tierkv-server@\S+ failed: no batch arrived for 1000 ms/.test(controller.stdout() + controller.stderr()), 'the controller to fail the sync', 30_000, 100);
  });
});
