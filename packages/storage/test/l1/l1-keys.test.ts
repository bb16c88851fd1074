import { expect } from 'chai';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { L1Manager } from '../../src/l1/l1-manager.js';

describe('L1Manager.keys()', () => {
  it('lists ready and read-locked objects, not write-locked or temporary ones', () => {
    const l1 = new L1Manager({ capacityBytes: 64 * 1024, lockSweepIntervalMs: 0 });
    try {
      const layout = MemoryLayout.bytes(1024);
      const k = (n: number) => objectKey(n.toString(16).padStart(16, '0'), 'keys-test');
      l1.reserveWrite([k(1), k(2), k(3)], layout);
      l1.finishWrite([k(1), k(2)]); // 3 stays write-locked
      l1.reserveRead([k(2)]);
      l1.reserveWrite([k(4)], layout, 'new', { temporary: true });
      l1.finishWrite([k(4)]);
      expect(l1.keys().map((x) => x.chunkHash).sort()).to.deep.equal([k(1), k(2)].map((x) => x.chunkHash));
      l1.finishRead([k(2)]);
      l1.delete([k(1)]);
      expect(l1.keys().map((x) => x.chunkHash)).to.deep.equal([k(2).chunkHash]);
    } finally {
      l1.close();
    }
  });
});
