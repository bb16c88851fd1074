import { expect } from 'chai';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { BufferRecycler } from '../../src/l2/buffer-recycler.js';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { registerL2AdapterSuite } from '../../src/testing/l2-adapter-suite.js';

registerL2AdapterSuite('MemoryL2Adapter', () => new MemoryL2Adapter(), {
  createWithBudget: (capacityBytes) => new MemoryL2Adapter({ capacityBytes }),
});

describe('MemoryL2Adapter', () => {
  const k = objectKey('00000000000000aa', 'm');

  it('reuses the buffers of deleted, evicted and replaced objects without mixing up any bytes', async () => {
    const size = 4096;
    const layout = MemoryLayout.bytes(size);
    // Room for 8 objects: storing 64 evicts, deletes and replaces all along. Checksums off, so a
    // buffer reused while its object still lived would come back as wrong bytes, not as a miss.
    const a = new MemoryL2Adapter({ capacityBytes: 8 * size, verifyChecksums: false });
    const key = (i: number) => objectKey(i.toString(16).padStart(16, '0'), 'm');
    const bytes = (i: number, v: number) => new Uint8Array(size).map((_, j) => (i * 31 + v * 7 + j) & 0xff);
    const version = new Map<number, number>();
    for (let step = 0; step < 400; step++) {
      const i = (step * 7) % 16;
      if (step % 5 === 4) {
        await a.delete([key(i)]);
        version.delete(i);
      } else {
        expect(await a.store([{ key: key(i), layout, data: bytes(i, step) }])).to.deep.equal([true]);
        version.set(i, step);
      }
      // Whatever is still stored holds exactly the bytes of its last store.
      for (const [j, v] of version) {
        const target = new Uint8Array(size);
        const [hit] = await a.load([key(j)], [target]);
        if (!hit) {
          version.delete(j); // evicted
          continue;
        }
        expect(Buffer.compare(target, bytes(j, v)), `object ${j} after step ${step}`).to.equal(0);
      }
    }
    await a.close();
  });

  it('BufferRecycler hands out a kept buffer of the size asked, and keeps at most its byte bound', () => {
    const r = new BufferRecycler(3 * 100);
    const kept = [new Uint8Array(100), new Uint8Array(100), new Uint8Array(100), new Uint8Array(100)];
    for (const b of kept) r.give(b);
    expect(r.bytes).to.equal(300);
    const src = new Uint8Array(100).fill(5);
    const copy = r.copyOf(src);
    expect(kept.slice(0, 3)).to.include(copy);
    expect(copy.every((b) => b === 5)).to.equal(true);
    expect(r.bytes).to.equal(200);
    // No kept buffer of another size: a new one.
    const other = r.copyOf(new Uint8Array(50).fill(1));
    expect(kept).to.not.include(other);
    r.clear();
    expect(r.bytes).to.equal(0);
  });

  it('detects damaged bytes on load: a miss, counted, dropped', async () => {
    const a = new MemoryL2Adapter();
    const data = new Uint8Array(64).fill(7);
    await a.store([{ key: k, layout: MemoryLayout.bytes(64), data }]);
    expect(await a.corruptStoredObject(k, 5)).to.equal(true);
    const target = new Uint8Array(64);
    expect(await a.load([k], [target])).to.deep.equal([false]);
    expect(await a.lookupAndLock([k])).to.deep.equal([false]);
    await a.close();
  });

  it('keeps its own copy: later changes to the caller buffer do not leak in', async () => {
    const a = new MemoryL2Adapter();
    const data = new Uint8Array(16).fill(1);
    await a.store([{ key: k, layout: MemoryLayout.bytes(16), data }]);
    data.fill(9);
    const target = new Uint8Array(16);
    await a.load([k], [target]);
    expect([...target]).to.deep.equal(new Array(16).fill(1));
    await a.close();
  });

  it('names the bad option', () => {
    expect(() => new MemoryL2Adapter({ capacityBytes: -1 })).to.throw(ConfigError, 'memoryL2.capacityBytes');
    expect(() => new MemoryL2Adapter({ name: 'has space' })).to.throw(ConfigError, 'memoryL2.name');
  });
});
