import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClosedError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter, MemoryL2Adapter, StorageManager, type L2Adapter, type PrefetchHandle } from '@tierkv/storage';
import { FaultyL2Adapter, SeededRandom } from '@tierkv/storage/testing';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';

/**
 * The storage stack under an L2 that fails, rejects and corrupts a share of its operations:
 * no read ever returns wrong bytes, every injected failure shows up in the metrics, and nothing
 * leaks (L1 memcheck, no L2 pins, no locks, no pending work at close). Replay a failure with
 * TIERKV_FAULT_SEED=<seed printed below>.
 */
const KIB = 1024;
const SIZE = KIB;
const layout = MemoryLayout.bytes(SIZE);
const KEYSPACE = 48;
const STEPS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 0) > 0 ? 40 * Number(process.env.TIERKV_PROPERTY_RUNS) : 150;
const SEEDS = process.env.TIERKV_FAULT_SEED ? [Number(process.env.TIERKV_FAULT_SEED)] : [11, 12, 13];

const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'fault-model');

/** Object i always holds these bytes, so any read can be checked. */
function pattern(i: number): Uint8Array {
  const out = new Uint8Array(SIZE);
  for (let j = 0; j < SIZE; j++) out[j] = (i * 131 + j * 17 + (j >> 8)) & 0xff;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

type Telemetry = { meterProvider: ReturnType<typeof createTestMeterProvider>['meterProvider'] };
const backends: [string, (t: Telemetry) => Promise<MemoryL2Adapter | FsL2Adapter>][] = [
  ['memory', async (t) => new MemoryL2Adapter(t)],
  [
    'fs',
    async (t) => {
      const d = await mkdtemp(join(tmpdir(), 'tierkv-fault-'));
      dirs.push(d);
      return FsL2Adapter.open({ path: d, maxConcurrentOps: 4, ...t });
    },
  ],
];

describe('storage under L2 fault injection', function () {
  this.timeout(60_000);
  let describeFaults: (() => string) | undefined;

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && describeFaults) console.log(`    fault plan: ${describeFaults()}`);
    describeFaults = undefined;
  });

  for (const [backend, open] of backends) {
    for (const seed of SEEDS) {
      it(`${backend} L2, seed ${seed}: no wrong bytes, every failure counted, nothing leaks`, async () => {
        const { meterProvider, collect, shutdown } = createTestMeterProvider();
        const inner = await open({ meterProvider });
        const faulty = new FaultyL2Adapter(inner, { seed });
        describeFaults = () => faulty.describe();
        faulty.faults.store.failRate(0.1).rejectRate(0.05).delay(0, 2);
        faulty.faults.lookup.failRate(0.05).rejectRate(0.05);
        faulty.faults.load.failRate(0.1).rejectRate(0.05).corruptRate(0.1).delay(0, 2);
        faulty.faults.delete.rejectRate(0.1);
        const sm = new StorageManager({
          l1: { capacityBytes: 24 * KIB, lockSweepIntervalMs: 0 } as never,
          l2: [faulty],
          meterProvider,
          maxInFlight: 4,
          loadBatchSize: 2,
          storeQueueLimit: 8,
        });
        const rnd = new SeededRandom(seed ^ 0x5eed);
        let reads = 0;
        let verifiedChunks = 0;
        /** Reads the prefix of `ids` a prefetch settled on (`n` keys), checks every byte, releases it. */
        const verifyPrefetched = (ids: readonly number[], n: number) => {
          expect(n).to.be.within(0, ids.length);
          const prefix = ids.slice(0, n).map(key);
          const objs = sm.readPrefetched(prefix);
          expect(objs, 'a settled prefix must be readable').to.not.equal(undefined);
          objs!.forEach((o, i) => expect(sameBytes(o.data, pattern(ids[i]!)), `bytes of key ${ids[i]} (seed ${seed})`).to.equal(true));
          reads++;
          verifiedChunks += objs!.length;
          sm.finishReadPrefetched(prefix);
        };
        try {
          for (let step = 0; step < STEPS; step++) {
            const roll = rnd.next();
            if (roll < 0.4) {
              // Write 1-4 keys that are not in L1 yet.
              const ids = Array.from({ length: rnd.int(1, 4) }, () => rnd.int(0, KEYSPACE - 1)).filter((v, i, a) => a.indexOf(v) === i);
              const ks = ids.map(key);
              const objs = sm.reserveWrite(ks, layout);
              const ok: ObjectKey[] = [];
              objs.forEach((o, i) => {
                if (!o) return;
                o.data.set(pattern(ids[i]!));
                ok.push(ks[i]!);
              });
              sm.finishWrite(ok);
            } else if (roll < 0.55) {
              // Concurrent prefetches of overlapping prefixes: each must see only correct bytes.
              const start = rnd.int(0, KEYSPACE - 8);
              const lists = Array.from({ length: rnd.int(2, 3) }, () => Array.from({ length: rnd.int(1, 8) }, (_, i) => start + i));
              const handles = lists.map((ids) => sm.submitPrefetch(ids.map(key), layout));
              const ns = await Promise.all(handles.map((h) => sm.waitPrefetch(h)));
              lists.forEach((ids, j) => verifyPrefetched(ids, ns[j]!));
            } else if (roll < 0.85) {
              // Prefetch a run of consecutive keys and check every byte that comes back.
              const start = rnd.int(0, KEYSPACE - 8);
              const ids = Array.from({ length: rnd.int(1, 8) }, (_, i) => start + i);
              const h = sm.submitPrefetch(ids.map(key), layout);
              verifyPrefetched(ids, await sm.waitPrefetch(h));
            } else if (roll < 0.9) {
              await sm.delete([key(rnd.int(0, KEYSPACE - 1))]);
            } else if (roll < 0.95) {
              await sm.clear();
            } else {
              await sm.flush();
            }
          }
          await sm.flush();

          // Nothing leaks: no L1 locks, allocator consistent, no L2 pins.
          const l1 = sm.usage().l1;
          expect(l1.byState.readLocked, 'read-locked objects left').to.equal(0);
          expect(l1.byState.writeLocked, 'write-locked objects left').to.equal(0);
          const report = sm.l1.memcheck();
          expect(report.ok, report.problems.join('; ')).to.equal(true);
          for (let i = 0; i < KEYSPACE; i++) expect(inner.pinsOf(key(i)), `L2 pins on key ${i}`).to.equal(0);

          // Every failure is counted.
          const rm = await collect();
          const a = { 'tierkv.l2.adapter': inner.name };
          const inj = faulty.injected;
          expect(valueOf(rm, 'tierkv.l2.failures', { ...a, 'tierkv.l2.operation': 'store' })).to.equal(inj.failedKeys.store + inj.rejectedKeys.store);
          expect(valueOf(rm, 'tierkv.l2.failures', { ...a, 'tierkv.l2.operation': 'lookup' })).to.equal(inj.rejectedKeys.lookup);
          expect(valueOf(rm, 'tierkv.l2.failures', { ...a, 'tierkv.l2.operation': 'load' })).to.equal(inj.failedKeys.load + inj.rejectedKeys.load + inj.corrupted);
          expect(valueOf(rm, 'tierkv.l2.failures', { ...a, 'tierkv.l2.operation': 'delete' })).to.equal(inj.rejectedKeys.delete);
          expect(valueOf(rm, 'tierkv.l2.corrupt', a)).to.equal(inj.corrupted);
          expect(valueOf(rm, 'tierkv.l2.inflight', a)).to.equal(0);
          expect(valueOf(rm, 'tierkv.storage.read.requests')).to.equal(reads);
          expect(inj.corrupted + inj.failedKeys.load, 'the run injected load faults').to.be.greaterThan(0);
          expect(verifiedChunks, 'the run verified data').to.be.greaterThan(0);

          // No pending work at close: prefetches and stores started just before close() settle by then.
          const last: PrefetchHandle[] = [];
          for (let i = 0; i < 4; i++) last.push(sm.submitPrefetch([key(i), key(i + 1)], layout));
          const ks = [key(KEYSPACE), key(KEYSPACE + 1)];
          const objs = sm.reserveWrite(ks, layout);
          objs.forEach((o, i) => o?.data.set(pattern(KEYSPACE + i)));
          sm.finishWrite(ks.filter((_, i) => objs[i]));
          const waits = last.map((h) => sm.waitPrefetch(h));
          await sm.close();
          const settled = await Promise.race([Promise.all(waits).then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
          expect(settled, 'prefetches still pending after close').to.equal(true);
          expect(() => sm.usage()).to.throw(ClosedError);
        } finally {
          await sm.close().catch(() => undefined);
          await shutdown();
        }
      });
    }
  }
});

// Adapters used above satisfy the public contract type.
const _check: L2Adapter = new MemoryL2Adapter();
void _check;
