import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidArgumentError } from '@tierkv/core';
import { ChunkSet, mixHash } from '../../src/pool/chunk-set.js';
import { hashRunFromBytes } from '../../src/pool/hash-run.js';

const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 50);

const key = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const halves = (k: bigint): [number, number] => [Number(k >> 32n), Number(k & 0xffff_ffffn)];

/** Every member of `model` is in `set`, nothing else is (checked through forEach), and the sizes agree. */
function expectSameMembers(set: ChunkSet, model: Set<bigint>): void {
  expect(set.size).to.equal(model.size);
  // Plain loops, one assertion each: a chai call per key would dominate the large runs.
  const missing = [...model].filter((k) => !set.has(...halves(k)));
  expect(missing, 'members the set lost').to.deep.equal([]);
  const seen: bigint[] = [];
  set.forEach((hi, lo) => seen.push(key(hi, lo)));
  expect(seen.length).to.equal(model.size);
  expect(seen.filter((k) => !model.has(k)), 'members the set made up').to.deep.equal([]);
}

/** A deterministic stream of 64-bit keys (xorshift32 per half), so large runs cost no fast-check shrinking. */
function keyStream(seed: number): () => bigint {
  let x = seed | 1;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  return () => key(next(), next());
}

describe('ChunkSet', () => {
  it('behaves like a Set<bigint> under any sequence of adds and deletes (model)', () => {
    // Small value ranges force collisions, long probe runs and backward shifts.
    const word = fc.oneof(fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 40 }), fc.nat());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), word, word), { maxLength: 400 }), (ops) => {
        const set = new ChunkSet(4);
        const model = new Set<bigint>();
        for (const [add, hi, lo] of ops) {
          const k = key(hi, lo);
          if (add) expect(set.add(hi, lo)).to.equal(!model.has(k)), model.add(k);
          else expect(set.delete(hi, lo)).to.equal(model.has(k)), model.delete(k);
          expect(set.size).to.equal(model.size);
        }
        expectSameMembers(set, model);
      }),
      { numRuns: RUNS },
    );
  });

  it('grows and shrinks through every capacity step and still matches the model (large sets)', () => {
    // Phases of bulk adds and bulk deletes take sets past 4096 slots (×1.19 growth) and back below
    // a load of 0.4 (shrink), with the load invariants checked after every phase.
    const phase = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }));
    fc.assert(
      fc.property(fc.integer(), fc.array(phase, { minLength: 1, maxLength: 5 }), (seed, phases) => {
        const next = keyStream(seed);
        const set = new ChunkSet();
        const model = new Set<bigint>();
        for (const [adds, deleteShare] of phases) {
          let wrong = 0;
          for (let i = 0; i < adds; i++) {
            const k = next();
            if (set.add(...halves(k)) === model.has(k)) wrong++;
            model.add(k);
          }
          const doomed = [...model].filter((_, i) => i % 100 < deleteShare * 100);
          for (const k of doomed) {
            if (!set.delete(...halves(k))) wrong++;
            model.delete(k);
            if (set.delete(...halves(k))) wrong++;
          }
          expect(wrong, 'add/delete results that disagree with the model').to.equal(0);
          expectSameMembers(set, model);
          expect(set.size).to.be.at.most(set.capacity * 0.85);
          if (set.capacity > 4096) expect(set.size).to.be.at.least(set.capacity * 0.4);
        }
      }),
      { numRuns: Math.max(5, Math.ceil(RUNS / 5)) },
    );
  });

  it('refuses to grow past its slot limit with a typed error, unchanged', () => {
    expect(() => new ChunkSet(2 ** 26)).to.throw(InvalidArgumentError, /over the limit of 67108864/);
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

  it('costs at most 11.2 bytes per chunk once grown past 4096 slots, and gives memory back when emptied', () => {
    const s = new ChunkSet();
    const next = keyStream(7);
    const keys: bigint[] = [];
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const k = next();
      keys.push(k);
      s.add(...halves(k));
      if (s.capacity > 4096 && s.byteSize / s.size > worst) worst = s.byteSize / s.size;
    }
    expect(worst).to.be.within(10, 11.2);
    expect(s.size).to.equal(200_000);
    // Deleting, the load never falls below 0.4 while the set is over 4096 slots: it shrinks instead.
    let lowest = 1;
    for (const k of keys) {
      s.delete(...halves(k));
      if (s.capacity > 4096 && s.size / s.capacity < lowest) lowest = s.size / s.capacity;
    }
    expect(lowest).to.be.within(0.4, 0.5);
    expect(s.size).to.equal(0);
    expect(s.capacity).to.equal(4096);
  });

  it('runLength counts the members from a position up to the first miss, with hasMixed agreeing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.constantFrom(0, 1, 2, 0xffffffff), fc.integer({ min: 0, max: 30 })), { maxLength: 60 }), fc.nat(60), (entries, from) => {
        const set = new ChunkSet();
        const bytes = Buffer.alloc(entries.length * 8);
        entries.forEach(([member, hi, lo], i) => {
          bytes.writeUInt32BE(hi, i * 8);
          bytes.writeUInt32BE(lo, i * 8 + 4);
          if (member) set.add(hi, lo);
        });
        const run = hashRunFromBytes(bytes);
        const w = run.words;
        expect(run.length).to.equal(entries.length);
        const start = Math.min(from, entries.length);
        let expected = 0;
        while (start + expected < entries.length && set.has(...entries[start + expected]!.slice(1) as [number, number])) expected++;
        expect(set.runLength(w, start, entries.length)).to.equal(expected);
        entries.forEach(([, hi, lo], i) => {
          expect([w[3 * i], w[3 * i + 1], w[3 * i + 2]]).to.deep.equal([hi >>> 0, lo >>> 0, mixHash(hi, lo)]);
          expect(set.hasMixed(w[3 * i]!, w[3 * i + 1]!, w[3 * i + 2]!)).to.equal(set.has(hi, lo));
        });
      }),
      { numRuns: RUNS },
    );
  });
});
