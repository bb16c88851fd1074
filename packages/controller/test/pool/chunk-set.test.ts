import { expect } from 'chai';
import fc from 'fast-check';
import { ChunkSet } from '../../src/pool/chunk-set.js';

const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 50);

describe('ChunkSet', () => {
  it('behaves like a Set of 64-bit values under any sequence of adds and deletes (model)', () => {
    // Small value ranges force collisions, long probe runs and backward shifts.
    const word = fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 40 }), fc.nat());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), word, word), { maxLength: 400 }), (ops) => {
        const set = new ChunkSet(4);
        const model = new Set<string>();
        for (const [add, hi, lo] of ops) {
          const k = `${hi >>> 0}:${lo >>> 0}`;
          if (add) expect(set.add(hi, lo)).to.equal(!model.has(k)), model.add(k);
          else expect(set.delete(hi, lo)).to.equal(model.has(k)), model.delete(k);
          expect(set.size).to.equal(model.size);
        }
        for (const k of model) {
          const [hi, lo] = k.split(':').map(Number);
          expect(set.has(hi!, lo!)).to.equal(true);
        }
        const seen: string[] = [];
        set.forEach((hi, lo) => seen.push(`${hi}:${lo}`));
        expect(new Set(seen)).to.deep.equal(model);
      }),
      { numRuns: RUNS },
    );
  });

  it('holds the zero hash apart from the empty-slot marker', () => {
    const s = new ChunkSet();
    expect(s.has(0, 0)).to.equal(false);
    expect(s.add(0, 0)).to.equal(true);
    expect(s.add(0, 0)).to.equal(false);
    expect(s.size).to.equal(1);
    expect(s.delete(0, 0)).to.equal(true);
    expect(s.size).to.equal(0);
  });

  it('stays within 32 bytes per chunk once grown', () => {
    const s = new ChunkSet();
    for (let i = 0; i < 100_000; i++) s.add(i * 2654435761, i);
    expect(s.size).to.equal(100_000);
    expect(s.byteSize / s.size).to.be.at.most(32);
  });
});
