import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisServer, rawRedisCommand } from './redis-server.js';

const run = promisify(execFile);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port whose cluster-bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      taken.add(port + 10_000);
      return port;
    }
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
}

/**
 * A Redis Cluster of `size` masters on 127.0.0.1 (no replicas), created with
 * `redis-cli --cluster create` and ready (`cluster_state:ok` on every node) when `start` resolves.
 */
export class RedisCluster {
  readonly nodes: readonly RedisServer[];
  readonly #dir: string;

  private constructor(nodes: RedisServer[], dir: string) {
    this.nodes = nodes;
    this.#dir = dir;
  }

  static async start(size = 3, timeoutMs = 20_000): Promise<RedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'tierkv-redis-cluster-'));
    const taken = new Set<number>();
    const nodes: RedisServer[] = [];
    const cluster = new RedisCluster(nodes, dir);
    try {
      for (let i = 0; i < size; i++) {
        const port = await clusterPort(taken);
        nodes.push(
          await RedisServer.start({
            port,
            dir,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'],
          }),
        );
      }
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeout: timeoutMs,
      });
      const deadline = Date.now() + timeoutMs;
      for (const node of nodes) {
        for (;;) {
          const info = await rawRedisCommand(node.port, 'CLUSTER INFO').catch(() => '');
          if (info.includes('cluster_state:ok')) break;
          if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ok within ${timeoutMs} ms: ${info}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Seed nodes for ioredis' Cluster client. */
  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await rm(this.#dir, { recursive: true, force: true });
  }
}
