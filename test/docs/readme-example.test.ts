import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryLayout, TokenHasher } from '@tierkv/core';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';

// The README's "Embedded in a service" example, with small sizes: if this breaks, fix the README too.
describe('README embedding example', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tierkv-readme-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes through to the fs L2 and prefetches the prefix back, byte for byte', async () => {
    const storage = new StorageManager({
      l1: { capacityBytes: 8 * 2 ** 20 },
      l2: [await FsL2Adapter.open({ path: join(dir, 'l2'), capacityBytes: 64 * 2 ** 20 })],
    });
    const layout = new MemoryLayout([[2, 4, 256, 8]], ['bfloat16']);
    const tokenIds = Array.from({ length: 1024 }, (_, i) => (i * 31) % 50_000);
    const keys = new TokenHasher().keysFor(tokenIds, { modelName: 'llama-3-8b' });
    const chunkBytes = keys.map((_, i) => new Uint8Array(layout.byteSize).fill(i + 1));

    const objs = storage.reserveWrite(keys, layout);
    objs.forEach((obj, i) => obj?.data.set(chunkBytes[i]!));
    expect(storage.finishWrite(keys)).to.deep.equal(keys.map(() => true));

    const handle = storage.submitPrefetch(keys, layout);
    const ready = await storage.waitPrefetch(handle);
    const hit = storage.readPrefetched(keys.slice(0, ready));
    expect(ready).to.equal(keys.length);
    hit!.forEach((obj, i) => expect(Buffer.from(obj.data).equals(Buffer.from(chunkBytes[i]!))).to.equal(true));
    storage.finishReadPrefetched(keys.slice(0, ready));
    await storage.close();

    // the write-through reached L2: a fresh manager on the same directory finds every chunk there
    const again = new StorageManager({ l1: { capacityBytes: 8 * 2 ** 20 }, l2: [await FsL2Adapter.open({ path: join(dir, 'l2') })] });
    expect(await again.lookup(keys)).to.deep.equal(keys.map(() => 'l2'));
    await again.close();
  });
});
