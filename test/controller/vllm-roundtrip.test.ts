import { expect } from 'chai';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { CacheController, ControllerClient, VllmEventPublisher } from '@tierkv/controller';
import { StorageManager } from '@tierkv/storage';
import { waitFor } from '@tierkv/test-utils';

// Issue 12, both directions at once: a tierkv worker publishes its holdings as vLLM KV events, and
// a tierkv controller that follows it as a vLLM publisher scores it by the chunks it holds, exactly
// as an llm-d or Dynamo router would see it.
describe('vLLM events: a tierkv worker published, a tierkv controller following it', function () {
  this.timeout(240_000);

  it('the controller scores the worker by the longest prefix it stored, in L1 (CPU)', async () => {
    const storage = new StorageManager({ l1: { capacityBytes: 16 << 20 } });
    const publisher = new VllmEventPublisher({ endpoint: 'tcp://127.0.0.1:0', replayEndpoint: 'tcp://127.0.0.1:0', blockSize: 256, flushIntervalMs: 5 });
    await publisher.start(storage);
    const controller = new CacheController({
      pullPort: 0,
      routerPort: 0,
      httpPort: false,
      vllmPublishers: [{ name: 'tierkv-1', endpoint: publisher.endpoint!, replayEndpoint: publisher.replayEndpoint!, model: 'demo-model', blockSize: 256 }],
    });
    await controller.start();
    const client = new ControllerClient({ router: controller.addresses.router });
    try {
      const keys = new TokenHasher({ chunkSize: 256 }).keysFor(Array.from({ length: 256 * 6 }, (_, i) => i % 50_000), { modelName: 'demo-model' });
      const layout = MemoryLayout.bytes(4096);
      const probe = async () => (await client.score({ model: 'demo-model', blockHashes: keys.map((k) => BigInt(`0x${k.chunkHash}`).toString()) }))[0];
      const write = (ks: typeof keys) => {
        storage.reserveWrite(ks, layout).forEach((o) => o!.data.fill(1));
        storage.finishWrite(ks);
      };
      // The controller's SUB joins asynchronously and a PUB drops what it sends before: write
      // unrelated probe chunks until one is seen, then the prefix itself.
      const probes = new TokenHasher({ chunkSize: 256 }).keysFor(Array.from({ length: 256 * 1000 }, (_, i) => 60_000 + i), { modelName: 'demo-model' });
      let p = 0;
      const followed = () => (controller.vllm.list()[0]?.stats.events.BlockStored ?? 0) > 0;
      await waitFor(() => {
        if (!followed()) write([probes[Math.min(p++, probes.length - 1)]!]);
        return followed();
      }, 'the controller to follow the publisher', 60_000, 200);
      write(keys.slice(0, 4));
      // Chunks 0-3 stored (4 of 6): the score is that prefix, in blocks and tokens, on the CPU medium.
      await waitFor(async () => (await probe())?.blocks === 4, 'the whole stored prefix to be scored', 60_000);
      const best = (await probe())!;
      expect(best.instanceId).to.equal('vllm:tierkv-1');
      expect(best.tokens).to.equal(4 * 256);
      expect(best.media['cpu']?.blocks).to.equal(4);
      // Deleting chunk 1 breaks the prefix after chunk 0.
      storage.delete([keys[1]!]);
      await waitFor(async () => (await probe())?.blocks === 1, 'the delete to cut the prefix', 60_000);
    } finally {
      client.close();
      await controller.close();
      await publisher.close();
      await storage.close();
    }
  });
});
