import { expect } from 'chai';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { CacheController, WorkerClient, type CacheControllerOptions } from '@tierkv/controller';
import { createTestMeterProvider, freePort, valueOf, waitFor } from '@tierkv/test-utils';

/** mulberry32: a seeded source so a failing run can be replayed with TIERKV_CHAOS_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (n: number) => n.toString(16).padStart(16, '0');

interface Node {
  readonly id: string;
  readonly sm: StorageManager;
  readonly client: WorkerClient;
  readonly written: Map<string, ObjectKey>;
  alive: boolean;
}

describe('controller chaos: lost events, controller restart, killed worker', function () {
  this.timeout(40_000);

  it('ends with a KV pool equal to the live workers\' true key sets, and metrics that show what happened', async () => {
    const seed = Number(process.env.TIERKV_CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const telemetry = createTestMeterProvider();
    const [pullPort, routerPort] = [await freePort(), await freePort()];
    const controllerOptions: CacheControllerOptions = {
      pullPort,
      routerPort,
      httpPort: false,
      workerTimeoutMs: 1_500,
      reapIntervalMs: 100,
      syncTimeoutMs: 3_000,
      gapGraceMs: 400,
      meterProvider: telemetry.meterProvider,
    };
    let controller = new CacheController(controllerOptions);
    await controller.start();
    const endpoints = controller.addresses;
    const layout = MemoryLayout.bytes(512);
    let faulty = true;
    const nodes: Node[] = [];
    for (let i = 0; i < 4; i++) {
      // 64 KiB of L1 holds ~100 objects: the workload keeps evicting.
      const sm = new StorageManager({ l1: { capacityBytes: 64 * 1024, alignBytes: 64 }, meterProvider: telemetry.meterProvider });
      const client = new WorkerClient({
        controller: endpoints,
        instanceId: `node-${i}`,
        heartbeatIntervalMs: 100,
        requestTimeoutMs: 500,
        flushIntervalMs: 10,
        batchSize: 16,
        syncBatchSize: 20,
        syncPollIntervalMs: 20,
        meterProvider: telemetry.meterProvider,
        faults: { dropPush: (type) => faulty && random() < (type === 'kv_batch' ? 0.1 : 0.2) },
      });
      await client.start(sm);
      nodes.push({ id: `node-${i}`, sm, client, written: new Map(), alive: true });
    }

    let counter = 0;
    const step = async () => {
      for (const n of nodes) {
        if (!n.alive) continue;
        const batch: ObjectKey[] = [];
        for (let k = 0; k < 4; k++) {
          // Some chunks are shared by every node (a common prompt prefix), most are the node's own.
          const h = random() < 0.2 ? hex(1 + Math.floor(random() * 20)) : hex(0x1000_0000 + counter++);
          const key = objectKey(h, 'chaos-model');
          if (!batch.some((b) => b.chunkHash === h)) batch.push(key);
        }
        const objs = n.sm.reserveWrite(batch, layout, 'new');
        const reserved = batch.filter((_, i) => objs[i] !== undefined);
        objs.forEach((o) => o?.data.fill(7));
        n.sm.finishWrite(reserved);
        for (const k of reserved) n.written.set(k.chunkHash, k);
        if (random() < 0.3 && n.written.size > 0) {
          const all = [...n.written.values()];
          await n.sm.delete([all[Math.floor(random() * all.length)]!]);
        }
      }
    };

    const phase = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        await step();
        await sleep(5);
      }
    };

    try {
      await phase(1_000);
      // Controller restart: the new one knows nobody; workers re-register and sync.
      await controller.close();
      await phase(150);
      controller = new CacheController(controllerOptions);
      await controller.start();
      await phase(1_000);
      // Every worker is known to the new controller (slow machines may take longer than the phase).
      await waitFor(() => controller.workers().length === nodes.length, 'all workers to re-register', 10_000);
      // A worker dies without deregistering.
      const victim = nodes[3]!;
      victim.alive = false;
      await victim.client.kill();
      await victim.sm.close();
      await phase(1_000);
      faulty = false;

      const live = nodes.filter((n) => n.alive);
      const truth = async () => {
        const out = new Map<string, Set<string>>();
        for (const n of live) {
          const keys = [...n.written.values()];
          const tiers = await n.sm.lookup(keys);
          out.set(`${n.id}/0`, new Set(keys.filter((_, i) => tiers[i] === 'l1').map((k) => k.chunkHash)));
        }
        return out;
      };
      const view = () => {
        const out = new Map<string, Set<string>>();
        for (const [worker, byLoc] of controller.dumpKeys()) {
          out.set(worker, new Set([...(byLoc.get('l1') ?? [])].map((s) => s.split(':')[1]!)));
        }
        return out;
      };
      const union = (m: Map<string, Set<string>>) => new Set([...m.values()].flatMap((s) => [...s]));
      const equal = (a: Map<string, Set<string>>, b: Map<string, Set<string>>) =>
        a.size === b.size && [...a].every(([k, s]) => b.has(k) && b.get(k)!.size === s.size && [...s].every((x) => b.get(k)!.has(x)));

      let last: { t: Map<string, Set<string>>; v: Map<string, Set<string>> } | undefined;
      try {
        await waitFor(
          async () => {
            const t = await truth();
            const v = view();
            last = { t, v };
            return equal(t, v) && controller.workers().length === live.length && controller.workers().every((w) => !w.needsSync && w.sync?.state !== 'syncing');
          },
          'the KV pool to converge on the live workers\' key sets',
          15_000,
          50,
        );
      } catch (err) {
        const sizes = (m?: Map<string, Set<string>>) => JSON.stringify([...(m ?? [])].map(([k, s]) => [k, s.size]));
        throw new Error(`${(err as Error).message} (seed ${seed}; truth ${sizes(last?.t)}, view ${sizes(last?.v)}, workers ${JSON.stringify(controller.workers())})`);
      }
      expect(union(last!.v)).to.deep.equal(union(last!.t));
      expect(union(last!.t).size).to.be.greaterThan(0);

      const rm = await telemetry.collect();
      const metric = (name: string, attrs = {}) => valueOf(rm, name, attrs) ?? 0;
      const why = `seed ${seed}`;
      expect(metric('tierkv.controller.workers.registered'), why).to.equal(3);
      expect(metric('tierkv.controller.workers.reaped'), why).to.equal(1);
      expect(metric('tierkv.controller.full_sync.requested', { 'tierkv.full_sync.reason': 'registration' }), why).to.be.at.least(3);
      expect(metric('tierkv.controller.full_sync.sessions', { 'tierkv.full_sync.outcome': 'completed' }), why).to.be.at.least(3);
      expect(metric('tierkv.controller.full_sync.progress'), why).to.equal(1);
      expect(metric('tierkv.controller.seq.discontinuities'), why).to.be.at.least(1);
      expect(metric('tierkv.controller.kv_pool.keys'), why).to.equal(controller.poolUsage().keys);
      expect(metric('tierkv.worker.events.dropped', { 'tierkv.worker.drop.reason': 'fault' }), why).to.be.greaterThan(0);
      // The killed worker's client took its metrics with it: 3 live workers registered twice each.
      expect(metric('tierkv.worker.registrations'), why).to.be.at.least(6);
    } finally {
      for (const n of nodes) {
        if (!n.alive) continue;
        await n.client.close();
        await n.sm.close();
      }
      await controller.close();
      await telemetry.shutdown();
    }
  });
});
