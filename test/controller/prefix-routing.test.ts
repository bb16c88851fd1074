import { expect } from 'chai';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { CacheController, ControllerClient, WorkerClient } from '@tierkv/controller';
import { waitFor } from '@tierkv/test-utils';

describe('controller prefix routing across real StorageManagers', () => {
  it('finds, for a prompt, every node holding a prefix of it and how many tokens each holds', async () => {
    const chunkSize = 16;
    const hasher = new TokenHasher({ chunkSize });
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false, chunkSize });
    const addresses = await controller.start();
    const layout = MemoryLayout.bytes(256);
    const nodes: { sm: StorageManager; client: WorkerClient }[] = [];
    const router = new ControllerClient({ router: addresses.router });
    try {
      const prompt = Array.from({ length: 10 * chunkSize + 5 }, (_, i) => (i * 7919) % 32_000);
      const keys = hasher.keysFor(prompt, { modelName: 'llama' });
      // node-a cached the whole prompt, node-b the first 4 chunks, node-c an unrelated prompt.
      const other = hasher.keysFor(prompt.map((t) => t + 1), { modelName: 'llama' });
      const holdings = { 'node-a': keys, 'node-b': keys.slice(0, 4), 'node-c': other };
      for (const [instanceId, held] of Object.entries(holdings)) {
        const sm = new StorageManager({ l1: { capacityBytes: 1 << 20 } });
        const client = new WorkerClient({ controller: addresses, instanceId, heartbeatIntervalMs: 100 });
        await client.start(sm);
        nodes.push({ sm, client });
        sm.reserveWrite(held, layout);
        sm.finishWrite(held);
        await client.flush();
      }
      await waitFor(() => controller.poolUsage().keys === 10 + 4 + 10, 'every admission to reach the controller');
      const holders = await router.lookup({ tokens: prompt }, { modelName: 'llama' });
      expect(holders.map((h) => [h.instanceId, h.tokens])).to.deep.equal([
        ['node-a', 160],
        ['node-b', 64],
      ]);
      // Another model shares no chunks even with equal hashes.
      expect(await router.lookup({ tokens: prompt }, { modelName: 'mistral' })).to.deep.equal([]);
      // An eviction on node-a shortens its prefix at the controller.
      await nodes[0]!.sm.delete([keys[2]!]);
      await nodes[0]!.client.flush();
      await waitFor(async () => (await router.lookup({ tokens: prompt }, { modelName: 'llama' }))[0]?.instanceId === 'node-b', 'the eviction');
      const after = await router.lookup({ tokens: prompt }, { modelName: 'llama' });
      expect(after.map((h) => [h.instanceId, h.chunks])).to.deep.equal([
        ['node-b', 4],
        ['node-a', 2],
      ]);
    } finally {
      router.close();
      for (const n of nodes) {
        await n.client.close();
        await n.sm.close();
      }
      await controller.close();
    }
  });
});
