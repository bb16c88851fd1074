import { expect } from 'chai';
import { WatermarkEvictor } from '../../src/eviction/watermark-evictor.js';
import { closeAll, key, keys, layout1k, manager, KIB } from '../l1/helpers.js';

describe('regression: watermark thrash (issue 10, item 6)', () => {
  afterEach(closeAll);

  it('with 75% of L1 read-locked a write evicts no more than it needs', () => {
    // 100 objects of 1 KiB; watermark 80%, ratio 10%.
    const l1 = manager({ capacityBytes: 100 * KIB, triggerWatermark: 0.8, evictionRatio: 0.1 });
    const locked = keys(0, 75);
    l1.reserveWrite(locked, layout1k);
    l1.finishWrite(locked);
    l1.reserveRead(locked);
    const unlocked = keys(1000, 5);
    l1.reserveWrite(unlocked, layout1k);
    l1.finishWrite(unlocked);
    let evicted = 0;
    l1.addListener({ onL1KeysEvicted: (ks) => (evicted += ks.length) });
    for (let i = 0; i < 10; i++) {
      const k = [key(2000 + i)];
      expect(l1.reserveWrite(k, layout1k)[0]!.code).to.equal('SUCCESS');
      l1.finishWrite(k);
      expect(evicted, `after write ${i + 1}`).to.be.at.most(i + 1);
    }
    // The unlocked objects survive in L1 beside the locked ones: nothing was thrown away for nothing.
    expect(l1.usage().objects).to.be.at.least(80);
    expect(l1.memcheck().ok).to.equal(true);
  });

  it('the evictor asks only for what eviction can free', () => {
    const w = new WatermarkEvictor(1000, 0.8, 0.1);
    expect(w.bytesToFree(950, 1000)).to.equal(250); // margin reachable
    expect(w.bytesToFree(850, 60)).to.equal(50); // margin out of reach: just back under
    expect(w.bytesToFree(950, 100)).to.equal(0); // locked bytes keep it over: on-demand only
  });
});
