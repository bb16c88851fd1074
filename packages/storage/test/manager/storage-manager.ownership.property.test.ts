import { expect } from 'chai';
import fc from 'fast-check';
import { encodeKey, MemoryLayout, type ObjectKey } from '@tierkv/core';
import { MemoryL2Adapter } from '../../src/l2/memory-adapter.js';
import { FaultyL2Adapter } from '../../src/testing/faulty-l2-adapter.js';
import type { PrefetchLease } from '../../src/manager/prefetch-lease.js';
import type { WriteReservation } from '../../src/manager/write-reservation.js';
import { FakeClock } from '../l1/helpers.js';
import { KIB, closeAll, key, manager } from './helpers.js';

// At least 10 000 cases in CI; TIERKV_PROPERTY_RUNS sets any other number.
const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? (process.env.CI ? 10_000 : 300));
const KEYSPACE = 5;
const OWNERS = 3;
const TTL = 1000;
const layouts = [MemoryLayout.bytes(KIB), new MemoryLayout([[2, 128]], ['float16']), MemoryLayout.bytes(2 * KIB)];

/** Every object's bytes derive from its key and layout: a read can always be checked. */
function bytesOf(k: ObjectKey, layout: MemoryLayout): Uint8Array {
  const seed = parseInt(k.chunkHash, 16) * 7 + layout.byteSize + (layout.equals(layouts[1]!) ? 3 : 0);
  const out = new Uint8Array(layout.byteSize);
  for (let i = 0; i < out.length; i++) out[i] = (seed + i * 13) & 0xff;
  return out;
}

type Op =
  | { kind: 'reserve'; owner: number; ids: number[]; l: number }
  | { kind: 'commit' | 'abort' | 'release' | 'read'; owner: number; slot: number }
  | { kind: 'prefetch'; owner: number; ids: number[]; l: number; wait: boolean }
  | { kind: 'keyWrite'; ids: number[]; l: number }
  | { kind: 'delete'; ids: number[] }
  | { kind: 'evict'; ids: number[] }
  | { kind: 'advance'; ms: number }
  | { kind: 'faults'; on: boolean };

const id = fc.integer({ min: 0, max: KEYSPACE - 1 });
const ids = fc.uniqueArray(id, { minLength: 1, maxLength: 4 });
const owner = fc.integer({ min: 0, max: OWNERS - 1 });
const slot = fc.nat({ max: 3 });
const l = fc.integer({ min: 0, max: layouts.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reserve' as const), owner, ids, l }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('commit' as const, 'commit' as const, 'abort' as const, 'release' as const, 'read' as const), owner, slot }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('prefetch' as const), owner, ids, l, wait: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('keyWrite' as const), ids, l }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), ids }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('evict' as const), ids }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(10, TTL / 2, TTL + 1, TTL + 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('faults' as const), on: fc.boolean() }) },
);

interface Owner {
  reservations: { r: WriteReservation; layout: MemoryLayout }[];
  leases: { lease: PrefetchLease; layout: MemoryLayout }[];
}

/** No read hands out bytes that are not its key's (for the layout asked). */
function checkLease(lease: PrefetchLease, layout: MemoryLayout): void {
  const objs = lease.objects();
  objs.forEach((o, i) => {
    expect(encodeKey(o.key), `lease object ${i} is the key asked for`).to.equal(encodeKey(lease.keys[i]!));
    expect(o.layout.equals(layout), 'the layout asked for').to.equal(true);
    expect(Buffer.from(o.data).equals(Buffer.from(bytesOf(o.key, layout))), `bytes of ${o.key.chunkHash}`).to.equal(true);
  });
}

describe('StorageManager ownership (model-based: owners, expiry, eviction, L2 faults)', function () {
  this.timeout(600_000);
  afterEach(closeAll);

  it(`no read returns another key's bytes, no acknowledged write is lost, nothing outlives its owner (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 2 ** 30 }), async (ops, seed) => {
        const clock = new FakeClock();
        const faulty = new FaultyL2Adapter(new MemoryL2Adapter(), { seed });
        const sm = manager({
          l2: [faulty],
          l1: { capacityBytes: 6 * KIB, now: clock.now, readLockTtlMs: TTL, writeLockTtlMs: TTL } as never,
        });
        const owners: Owner[] = Array.from({ length: OWNERS }, () => ({ reservations: [], leases: [] }));
        // Committed (acknowledged) writes not deleted since: key → layout.
        const acknowledged = new Map<string, { k: ObjectKey; layout: MemoryLayout }>();
        const all: PrefetchLease[] = [];
        try {
          for (const o of ops) {
            switch (o.kind) {
              case 'reserve': {
                const layout = layouts[o.l]!;
                const r = sm.reserve(o.ids.map((i) => key(i)), layout);
                r.objects.forEach((obj, i) => obj?.data.set(bytesOf(r.keys[i]!, layout)));
                owners[o.owner]!.reservations.push({ r, layout });
                break;
              }
              case 'commit':
              case 'abort': {
                const entry = owners[o.owner]!.reservations[o.slot];
                if (!entry) break;
                owners[o.owner]!.reservations.splice(o.slot, 1);
                if (o.kind === 'abort') entry.r.abort();
                else entry.r.commit().forEach((ok, i) => ok && acknowledged.set(encodeKey(entry.r.keys[i]!), { k: entry.r.keys[i]!, layout: entry.layout }));
                break;
              }
              case 'prefetch': {
                const layout = layouts[o.l]!;
                const lease = sm.prefetch(o.ids.map((i) => key(i)), layout);
                all.push(lease);
                if (o.wait) await lease.ready;
                owners[o.owner]!.leases.push({ lease, layout });
                break;
              }
              case 'read': {
                const entry = owners[o.owner]!.leases[o.slot];
                if (entry) checkLease(entry.lease, entry.layout);
                break;
              }
              case 'release': {
                const entry = owners[o.owner]!.leases[o.slot];
                if (!entry) break;
                owners[o.owner]!.leases.splice(o.slot, 1);
                entry.lease.release();
                break;
              }
              case 'keyWrite': {
                const layout = layouts[o.l]!;
                const ks = o.ids.map((i) => key(i));
                const objs = sm.reserveWrite(ks, layout);
                objs.forEach((obj, i) => obj?.data.set(bytesOf(ks[i]!, layout)));
                sm.finishWrite(ks).forEach((ok, i) => ok && acknowledged.set(encodeKey(ks[i]!), { k: ks[i]!, layout }));
                // A key not reserved here is refused: finishing it again changes nothing.
                expect(sm.finishWrite(ks)).to.deep.equal(ks.map(() => false));
                break;
              }
              case 'delete': {
                const ks = o.ids.map((i) => key(i));
                const outcomes = await sm.delete(ks);
                ks.forEach((k, i) => {
                  if (outcomes[i] === 'deleted' || outcomes[i] === 'absent') acknowledged.delete(encodeKey(k));
                  // 'failed' and 'locked' keys may still be there; they are no longer promised either way.
                  else acknowledged.delete(encodeKey(k));
                });
                break;
              }
              case 'evict':
                // What eviction does to an unlocked object (L1 only: its L2 copy stays).
                await sm.flush();
                sm.l1.delete(o.ids.map((i) => key(i)));
                break;
              case 'advance':
                // Write-throughs land first: a lock is only left to expire by an owner, never mid-copy.
                await sm.flush();
                clock.advance(o.ms);
                sm.l1.sweepExpiredLocks();
                break;
              case 'faults':
                faulty.all((p) => (o.on ? p.failRate(0.3) : p.never()));
                // Stores never fail here, so every acknowledged write must stay findable.
                faulty.faults.store.never();
                faulty.faults.delete.never();
                break;
            }
            for (const ow of owners) for (const { lease, layout } of ow.leases) if (lease.status() !== undefined) checkLease(lease, layout);
            expect(sm.l1.memcheck().problems).to.deep.equal([]);
          }
          // Every owner goes away: nothing it held outlives it.
          for (const ow of owners) {
            for (const { r } of ow.reservations) r.abort();
            for (const { lease } of ow.leases) {
              await lease.ready;
              lease.release();
            }
          }
          // A lease released before it settled gives its locks back when it settles.
          await Promise.all(all.map((lease) => lease.ready));
          await sm.flush();
          const u = sm.l1.usage();
          expect(u.byState.readLocked + u.byState.writeLocked, 'locks left after every owner released').to.equal(0);
          faulty.all((p) => p.never());
          const entries = [...acknowledged.values()];
          const tiers = await sm.lookup(entries.map((e) => e.k));
          tiers.forEach((t, i) => expect(t, `acknowledged write of ${entries[i]!.k.chunkHash} is still stored`).to.not.equal('miss'));
          expect(sm.l1.memcheck().problems).to.deep.equal([]);
        } finally {
          await sm.close();
        }
        for (let i = 0; i < KEYSPACE; i++) expect((faulty.inner as MemoryL2Adapter).pinsOf(key(i)), 'no L2 pin outlives its prefetch').to.equal(0);
      }),
      { numRuns: RUNS, ...(process.env.TIERKV_REPLAY ? JSON.parse(process.env.TIERKV_REPLAY) : {}) },
    );
  });
});
