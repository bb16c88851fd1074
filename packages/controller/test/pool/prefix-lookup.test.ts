import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidArgumentError } from '@tierkv/core';
import { hashRunFromBytes, hashRunFromHex } from '../../src/pool/hash-run.js';
import { KvPool } from '../../src/pool/kv-pool.js';
import { prefixLookup } from '../../src/pool/prefix-lookup.js';

const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 50);
const SCOPE = { modelName: 'm', kvRank: 0, cacheSalt: '' };
const OTHER = { modelName: 'other', kvRank: 0, cacheSalt: '' };
const LOCATIONS = ['l1', 'l2:fs', 'l2:redis'];

/** Chunk c's hash: small numbers (0 included) so the zero-hash flag and collisions are exercised. */
const hashOf = (c: number): [number, number] => [c % 3 === 0 ? 0 : c, c];

describe('prefixLookup', () => {
  it('matches a direct computation over workers, locations and scopes (model)', () => {
    // Per worker and location: which of the query's 12 chunks it holds, in the lookup's scope or another.
    const holding = fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 12, maxLength: 12 });
    const worker = fc.array(holding, { minLength: LOCATIONS.length, maxLength: LOCATIONS.length });
    fc.assert(
      fc.property(fc.array(worker, { maxLength: 5 }), fc.integer({ min: 0, max: 12 }), (workers, queryLength) => {
        const pool = new KvPool();
        const scopeId = pool.scopeId(SCOPE);
        const otherId = pool.scopeId(OTHER);
        workers.forEach((locs, w) => {
          const keys = pool.ensureWorker(`w${w}`, 0);
          locs.forEach((chunks, l) => chunks.forEach(([inScope, inOther], c) => {
            if (inScope) keys.add(LOCATIONS[l]!, scopeId, ...hashOf(c));
            if (inOther) keys.add(LOCATIONS[l]!, otherId, ...hashOf(c));
          }));
        });
        const bytes = Buffer.alloc(queryLength * 8);
        for (let c = 0; c < queryLength; c++) {
          bytes.writeUInt32BE(hashOf(c)[0], c * 8);
          bytes.writeUInt32BE(hashOf(c)[1], c * 8 + 4);
        }
        const got = prefixLookup(pool, scopeId, hashRunFromBytes(bytes), 16);
        const expected = workers
          .map((locs, w) => {
            const prefix = (held: (c: number) => boolean) => {
              let n = 0;
              while (n < queryLength && held(n)) n++;
              return n;
            };
            const locations: Record<string, number> = {};
            locs.forEach((chunks, l) => {
              const p = prefix((c) => chunks[c]![0]);
              if (p > 0) locations[LOCATIONS[l]!] = p;
            });
            const chunks = prefix((c) => locs.some((chunks) => chunks[c]![0]));
            return { instanceId: `w${w}`, workerId: 0, chunks, tokens: chunks * 16, locations };
          })
          .filter((h) => h.chunks > 0)
          .sort((a, b) => b.chunks - a.chunks || (a.instanceId < b.instanceId ? -1 : 1));
        expect(got).to.deep.equal(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a malformed hex hash, naming the entry', () => {
    expect(() => hashRunFromHex(['0000000000000001', 'not-a-hash'])).to.throw(InvalidArgumentError, /entry 1/);
    expect(hashRunFromHex(['00000000000000ff']).words.slice(0, 2)).to.deep.equal(new Uint32Array([0, 255]));
  });
});
