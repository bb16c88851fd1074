import { expect } from 'chai';
import fc from 'fast-check';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { KIB, closeAll, expectPattern, keys, layout, manager, write } from './helpers.js';

const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 25);
const KEYSPACE = 12;

type Op =
  | { kind: 'write'; ids: number[] }
  | { kind: 'delete'; id: number }
  | { kind: 'dropL1'; ids: number[] }
  | { kind: 'clearL1' }
  | { kind: 'prefetch'; ids: number[] };

const id = fc.integer({ min: 0, max: KEYSPACE - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), id }),
  fc.record({ kind: fc.constant('dropL1' as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('clearL1' as const) }),
  fc.record({ kind: fc.constant('prefetch' as const), ids: fc.uniqueArray(id, { minLength: 1, maxLength: 8 }) }),
);

/**
 * Model: a key is readable iff it was written and not deleted since (a memory L2 without budget
 * keeps every write-through, so dropping it from L1 loses nothing). A prefetch's ready prefix is
 * then the number of leading keys that are readable, whatever tier holds them.
 */
describe('StorageManager prefix semantics (model-based)', () => {
  afterEach(closeAll);

  it('prefix length, bytes and lock accounting match a simple model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const l2 = new MemoryL2Adapter();
        const sm = manager({ l2: [l2], l1: { capacityBytes: 24 * KIB } as never });
        const model = new Set<number>();
        try {
          for (const o of ops) {
            switch (o.kind) {
              case 'write': {
                const fresh = o.ids.filter((i) => !sm.l1.contains(keys([i]))[0]);
                if (fresh.length > 0) write(sm, fresh);
                for (const i of o.ids) model.add(i);
                await sm.flush();
                break;
              }
              case 'delete':
                await sm.delete(keys([o.id]));
                model.delete(o.id);
                break;
              case 'dropL1':
                sm.l1.delete(keys(o.ids));
                break;
              case 'clearL1':
                await sm.clear();
                break;
              case 'prefetch': {
                let expected = 0;
                while (expected < o.ids.length && model.has(o.ids[expected]!)) expected++;
                const n = await sm.waitPrefetch(sm.submitPrefetch(keys(o.ids), layout));
                expect(n, `prefetch ${JSON.stringify(o.ids)} with ${JSON.stringify([...model])}`).to.equal(expected);
                const ready = o.ids.slice(0, n);
                expectPattern(sm.readPrefetched(keys(ready))!, ready);
                sm.finishReadPrefetched(keys(ready));
                break;
              }
            }
            const u = sm.usage().l1;
            expect(u.byState.readLocked + u.byState.writeLocked, 'locks left after an operation').to.equal(0);
            expect(sm.l1.memcheck().ok).to.equal(true);
          }
          for (let i = 0; i < KEYSPACE; i++) expect(l2.pinsOf(keys([i])[0]!)).to.equal(0);
        } finally {
          await sm.close();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
