import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { TierkvClient } from '@tierkv/server';
import { freePort, waitFor } from '@tierkv/test-utils';
import { otlpPoints, startOtlpReceiver, type OtlpReceiver } from '@tierkv/test-utils/otlp-receiver';
import { RedisCluster } from '@tierkv/test-utils/redis-cluster';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';
import { Redis } from 'ioredis';
import { startCli, type RunningCli } from './helpers/run-cli.js';

describe('tierkv server and controller (child processes)', function () {
  this.timeout(60_000);
  let dir: string;
  const running: RunningCli[] = [];
  const clients: TierkvClient[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tierkv-server-'));
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
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
      20_000,
    );

  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('starts, answers a TierkvClient ping and /healthz, serves /metrics, and exits 0 on SIGTERM after a final OTLP export', async () => {
    receiver = await startOtlpReceiver();
    const [port, httpPort] = [await freePort(), await freePort()];
    const cli = startCli(['server', '--port', String(port), '--http-port', String(httpPort), '--l1-size', '16MiB', '--fs-path', join(dir, 'l2')], {
      cwd: dir,
      // A long interval: the export that arrives is the one made at shutdown.
      env: { OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.url, OTEL_METRIC_EXPORT_INTERVAL: '600000' },
    });
    running.push(cli);
    await waitForLine(cli, /serving tcp:\/\/127\.0\.0\.1:\d+/, 'the server to listen');

    const layout = MemoryLayout.bytes(4096);
    const client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout, timeoutMs: 5_000 });
    clients.push(client);
    const pong = await client.ping();
    expect(pong.version).to.match(/^\d+\.\d+\.\d+/);
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor([1, 2, 3, 4, 5, 6, 7, 8], { modelName: 'm' });
    const stored = await client.store(keys, keys.map(() => new Uint8Array(4096).fill(7)));
    expect(stored.stored).to.deep.equal([true, true]);

    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).to.equal(200);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).to.match(/^tierkv_server_requests_total\{/m);

    cli.child.kill('SIGTERM');
    const result = await cli.exited;
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('SIGTERM received, shutting down');
    expect(result.stdout).to.contain('stopped');
    await receiver.waitForExports(1, 5_000);
    const points = receiver.exports.flatMap((e) => otlpPoints(e.request));
    const stores = points.filter((p) => p.metric === 'tierkv.server.requests' && p.attributes['tierkv.request.type'] === 'store');
    expect(stores.reduce((a, p) => a + p.value, 0), 'the store request, in the final export').to.be.greaterThan(0);
  });

  it('--transport tcp serves tierkv+tcp:// and a TierkvClient stores and retrieves through it', async () => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const cli = startCli(['server', '--transport', 'tcp', '--port', String(port), '--http-port', String(httpPort), '--l1-size', '16MiB', '--fs-path', join(dir, 'l2')], { cwd: dir });
    running.push(cli);
    await waitForLine(cli, /serving tierkv\+tcp:\/\/127\.0\.0\.1:\d+/, 'the server to listen');
    const layout = MemoryLayout.bytes(4096);
    const client = new TierkvClient({ endpoint: `tierkv+tcp://127.0.0.1:${port}`, layout, timeoutMs: 5_000 });
    clients.push(client);
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor([1, 2, 3, 4, 5, 6, 7, 8], { modelName: 'm' });
    expect((await client.store(keys, keys.map((_, i) => new Uint8Array(4096).fill(i + 1)))).stored).to.deep.equal([true, true]);
    const got = await client.retrieve(keys);
    expect(got.chunks.map((c) => [c.byteLength, c[0], c[4095]])).to.deep.equal([[4096, 1, 1], [4096, 2, 2]]);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).to.equal(0);
  });

  it('a server started with --controller-url registers with a `tierkv controller`', async () => {
    const [pullPort, routerPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const controller = startCli(['controller', '--pull-port', String(pullPort), '--router-port', String(routerPort), '--http-port', String(httpPort)], { cwd: dir });
    running.push(controller);
    await waitForLine(controller, /tierkv controller: http http:\/\/127\.0\.0\.1:\d+/, 'the controller to listen');
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).to.equal(200);

    const [port, serverHttp] = [await freePort(), await freePort()];
    const server = startCli(
      [
        'server', '--port', String(port), '--http-port', String(serverHttp), '--l1-size', '16MiB', '--fs-path', join(dir, 'l2'),
        '--controller-url', `tcp://127.0.0.1:${routerPort}`, '--controller-pull-url', `tcp://127.0.0.1:${pullPort}`, '--instance-id', 'test-server',
      ],
      { cwd: dir },
    );
    running.push(server);
    await waitForLine(server, /serving tcp:\/\//, 'the server to listen');
    const client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout: MemoryLayout.bytes(1024), timeoutMs: 5_000 });
    clients.push(client);
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor([9, 8, 7, 6], { modelName: 'm' });
    await client.store(keys, [new Uint8Array(1024)]);

    const workers = await waitFor(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${httpPort}/workers`)).json()) as { workers: { instanceId: string }[] };
        return body.workers.some((w) => w.instanceId === 'test-server') ? body.workers : undefined;
      },
      'the server to register with the controller',
      20_000,
    );
    expect(workers.map((w) => w.instanceId)).to.include('test-server');

    server.child.kill('SIGTERM');
    expect((await server.exited).code).to.equal(0);
    controller.child.kill('SIGINT');
    const c = await controller.exited;
    expect(c.code, c.stderr).to.equal(0);
  });

  it('--no-fs --redis-url serves from a Redis L2 tier', async function () {
    requireRedisServer(this);
    const redis = await RedisServer.start();
    try {
      const [port, httpPort] = [await freePort(), await freePort()];
      const cli = startCli(['server', '--port', String(port), '--http-port', String(httpPort), '--l1-size', '16MiB', '--no-fs', '--redis-url', redis.url], { cwd: dir });
      running.push(cli);
      await waitForLine(cli, /serving tcp:\/\//, 'the server to listen');
      await waitForLine(cli, /L2 redis/, 'the server to report its L2 tier');
      const client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout: MemoryLayout.bytes(2048), timeoutMs: 5_000 });
      clients.push(client);
      const keys = new TokenHasher({ chunkSize: 4 }).keysFor([4, 3, 2, 1], { modelName: 'm' });
      await client.store(keys, [new Uint8Array(2048).fill(3)]);
      const tiers = await waitFor(
        async () => {
          const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { tiers: { tier: string; objects: number }[] };
          return status.tiers.find((t) => t.tier === 'l2:redis' && t.objects > 0) ? status.tiers : undefined;
        },
        'the chunk to be written through to Redis',
        10_000,
      );
      expect(tiers.map((t) => t.tier)).to.deep.equal(['l1', 'l2:redis']);
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).to.equal(0);
    } finally {
      await redis.stop();
    }
  });
  /** Starts `tierkv server --no-fs <redisArgs>` and stores one 2 KiB chunk through a TierkvClient. */
  const serveAndStore = async (redisArgs: readonly string[], tokens: number[]) => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const cli = startCli(['server', '--port', String(port), '--http-port', String(httpPort), '--l1-size', '16MiB', '--no-fs', ...redisArgs], { cwd: dir });
    running.push(cli);
    await waitForLine(cli, /serving tcp:\/\//, 'the server to listen');
    const client = new TierkvClient({ endpoint: `tcp://127.0.0.1:${port}`, layout: MemoryLayout.bytes(2048), timeoutMs: 5_000 });
    clients.push(client);
    const keys = new TokenHasher({ chunkSize: 4 }).keysFor(tokens, { modelName: 'm' });
    expect((await client.store(keys, [new Uint8Array(2048).fill(5)])).stored).to.deep.equal([true]);
    return { cli, httpPort };
  };

  it('--redis-key-prefix and --redis-ttl reach the Redis L2 tier', async function () {
    requireRedisServer(this);
    const redis = await RedisServer.start();
    const inspect = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const { cli } = await serveAndStore(['--redis-url', redis.url, '--redis-key-prefix', 'cli-test:', '--redis-ttl', '600', '--redis-timeout', '5000'], [7, 7, 7, 7]);
      await inspect.connect();
      const keys = await waitFor(async () => {
        const found = await inspect.keys('*');
        return found.length > 0 ? found : undefined;
      }, 'the chunk to be written through to Redis', 10_000);
      expect(keys).to.have.length(1);
      expect(keys[0]).to.match(/^cli-test:/);
      const ttl = await inspect.ttl(keys[0]!);
      expect(ttl).to.be.greaterThan(0).and.at.most(600);
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).to.equal(0);
    } finally {
      inspect.disconnect();
      await redis.stop();
    }
  });

  it('--redis-cluster serves from a Redis Cluster L2 tier', async function () {
    requireRedisServer(this, ['redis-server', 'redis-cli']);
    const cluster = await RedisCluster.start(3);
    try {
      const seeds = cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',');
      const { cli, httpPort } = await serveAndStore(['--redis-cluster', seeds, '--redis-key-prefix', 'c:'], [6, 6, 6, 6]);
      await waitForLine(cli, /L2 redis/, 'the server to report its L2 tier');
      await waitFor(
        async () => {
          const status = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { tiers: { tier: string; objects: number }[] };
          return status.tiers.some((t) => t.tier === 'l2:redis' && t.objects > 0);
        },
        'the chunk to be written through to the cluster',
        10_000,
      );
      expect(cli.stderr(), 'no "did not answer" warning').to.not.contain('did not answer');
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code).to.equal(0);
    } finally {
      await cluster.stop();
    }
  });

  it('an unreachable Redis is a warning: the server starts within the connect timeout and serves', async () => {
    const nobody = await freePort();
    const { cli } = await serveAndStore(['--redis-url', `redis://user:secret@127.0.0.1:${nobody}`, '--redis-connect-timeout', '300'], [1, 1, 1, 1]);
    expect(cli.stderr()).to.match(new RegExp(`warning: Redis L2 at redis://127\\.0\\.0\\.1:${nobody} did not answer within 300 ms`));
    expect(cli.stderr(), 'no credentials in the log').to.not.contain('secret');
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).to.equal(0);
  });
});
