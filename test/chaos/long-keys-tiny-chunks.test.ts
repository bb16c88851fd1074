// Attack: a client stores many one-byte chunks under the longest model names the protocol allows.
// Keys live on the JS heap, outside L1's arena; before the key budget (l1.maxKeyBytes) this
// grew the heap without bound (240 KB names killed the server with a V8 out-of-memory after 17
// requests). Now names are capped at 1024 characters and L1 evicts cold objects to keep the keys
// it holds within its budget.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { TierkvClient, TierkvServer } from '@tierkv/server';

const MiB = 2 ** 20;

/** A full collection, so heap figures are what is retained (the flag only takes effect in a new context). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('chaos: tiny chunks under the longest model names', function () {
  this.timeout(120_000);

  it('keeps the keys the server holds within l1.maxKeyBytes while another client is served', async () => {
    const maxKeyBytes = 8 * MiB;
    const storage = new StorageManager({ l1: { capacityBytes: 64 * MiB, maxKeyBytes } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null });
    await server.start();
    const tiny = MemoryLayout.bytes(1);
    const attacker = new TierkvClient({ endpoint: server.endpoint, layout: tiny, timeoutMs: 60_000 });
    const good = new TierkvClient({ endpoint: server.endpoint, layout: MemoryLayout.bytes(4096), timeoutMs: 60_000 });
    const longName = (i: number) => `${i % 10}`.repeat(1024);
    try {
      collectGarbage();
      const heapBefore = process.memoryUsage().heapUsed;
      let failed = 0;
      let wrong = 0;
      const goodKey = objectKey('00000000000000ff', 'good-model');
      const goodBytes = new Uint8Array(4096).fill(7);
      const batches = 100;
      const perBatch = 1000;
      for (let b = 0; b < batches; b++) {
        const keys = Array.from({ length: perBatch }, (_, i) => objectKey((b * perBatch + i).toString(16).padStart(16, '0'), longName(b)));
        const result = await attacker.store(keys, keys.map(() => new Uint8Array([b & 0xff])));
        expect(result.stored.every(Boolean), `batch ${b} stored`).to.equal(true);
        // The well-behaved client's own chunk, written and read back between the attacker's batches.
        try {
          await good.store([goodKey], [goodBytes], { mode: 'all' });
          const got = await good.retrieve([goodKey]);
          if (got.chunks.length !== 1) failed++;
          else if (!Buffer.from(got.chunks[0]!).equals(Buffer.from(goodBytes))) wrong++;
        } catch {
          failed++;
        }
        expect(storage.l1.usage().keyBytes, `after batch ${b}`).to.be.at.most(maxKeyBytes);
      }
      collectGarbage();
      const heapGrowthMiB = (process.memoryUsage().heapUsed - heapBefore) / MiB;
      const attempted = batches * perBatch;
      const held = storage.l1.usage().objects;
      console.log(`      long keys: ${attempted} stores of 2 KiB keys (${((attempted * 2200) / MiB).toFixed(0)} MiB of keys), L1 holds ${held} objects, key bytes ${(storage.l1.usage().keyBytes! / MiB).toFixed(1)} of ${maxKeyBytes / MiB} MiB, heap +${heapGrowthMiB.toFixed(1)} MiB; good client: ${failed} failed, ${wrong} wrong bytes`);
      expect(held).to.be.below(attempted / 10);
      // 100 000 keys would retain over 100 MiB; the budget keeps what stays to about its size.
      expect(heapGrowthMiB).to.be.below(4 * maxKeyBytes / MiB);
      expect(failed).to.equal(0);
      expect(wrong).to.equal(0);
      expect(storage.l1.memcheck().ok).to.equal(true);
    } finally {
      attacker.close();
      good.close();
      await server.shutdown();
    }
  });
});
