import { expect } from 'chai';
import { ConfigError, MemoryLayout, MAX_MODEL_NAME_LENGTH } from '@tierkv/core';
import { keyChargeBytes } from '../../src/l1/key-charge.js';
import { closeAll, codes, key, manager, MIB } from '../l1/helpers.js';

// Issue 15: a client storing 17 000 one-byte chunks under 240 KB model names killed the server with
// a V8 out-of-memory: key bytes were charged to no budget. Names are capped (1024 characters) and
// the keys L1 holds are charged to l1.maxKeyBytes.
describe('regression: key bytes count against a budget (issue 15)', () => {
  afterEach(closeAll);
  const tiny = MemoryLayout.bytes(1);
  const longName = 'm'.repeat(MAX_MODEL_NAME_LENGTH);

  it('tiny chunks under long model names evict cold objects instead of growing the heap', () => {
    const maxKeyBytes = 1 * MIB;
    const l1 = manager({ capacityBytes: 64 * MIB, maxKeyBytes });
    const perKey = keyChargeBytes(key(0, longName));
    let evicted = 0;
    l1.addListener({ onL1KeysEvicted: (ks) => (evicted += ks.length) });
    for (let i = 0; i < 5_000; i++) {
      const k = [key(i, longName)];
      expect(l1.reserveWrite(k, tiny)[0]!.code).to.equal('SUCCESS');
      l1.finishWrite(k);
      expect(l1.usage().keyBytes).to.be.at.most(maxKeyBytes);
    }
    // 5 000 keys of ~2.2 KB would be 11 MB; the budget holds about 470 of them.
    expect(l1.usage().objects).to.equal(Math.floor(maxKeyBytes / perKey));
    expect(evicted).to.equal(5_000 - l1.usage().objects);
    expect(l1.usage().usedBytes, 'the arena itself is nearly empty').to.be.below(l1.usage().capacityBytes / 100);
    expect(l1.memcheck().ok).to.equal(true);
  });

  it('answers OUT_OF_MEMORY when every held key is locked, and recovers once they are released', () => {
    const l1 = manager({ capacityBytes: 64 * MIB, maxKeyBytes: 64 * 1024 });
    const held = [];
    for (let i = 0; ; i++) {
      const k = key(i, longName);
      if (l1.reserveWrite([k], tiny)[0]!.code !== 'SUCCESS') break;
      held.push(k);
    }
    expect(held.length).to.be.greaterThan(0);
    expect(codes(l1.reserveWrite([key(10_000, longName)], tiny))).to.deep.equal(['OUT_OF_MEMORY']);
    l1.finishWrite(held);
    expect(codes(l1.reserveWrite([key(10_000, longName)], tiny))).to.deep.equal(['SUCCESS']);
    expect(l1.memcheck().ok).to.equal(true);
  });

  it('has a default that follows the capacity, and refuses a bad budget naming the option', () => {
    expect(manager({ capacityBytes: 16 * MIB }).options.maxKeyBytes).to.equal(16 * MIB);
    expect(manager({ capacityBytes: 1024 * MIB }).options.maxKeyBytes).to.equal(1024 * MIB);
    expect(() => manager({ capacityBytes: 16 * MIB, maxKeyBytes: 0 })).to.throw(ConfigError, /l1\.maxKeyBytes/);
  });
});
