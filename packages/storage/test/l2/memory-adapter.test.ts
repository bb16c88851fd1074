import { expect } from 'chai';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { registerL2AdapterSuite } from '../../src/testing/l2-adapter-suite.js';

registerL2AdapterSuite('MemoryL2Adapter', () => new MemoryL2Adapter(), {
  createWithBudget: (capacityBytes) => new MemoryL2Adapter({ capacityBytes }),
});

describe('MemoryL2Adapter', () => {
  const k = objectKey('00000000000000aa', 'm');

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
