import { expect } from 'chai';
import fc from 'fast-check';
import { hashOf } from '../helpers/fake-storage.js';
import { LOC, SCOPE, admits, batch, evicts, makeService, poolHashes, register, syncBatch } from '../helpers/messages.js';

const RUNS = Number(process.env.TIERKV_PROPERTY_RUNS ?? 40);

describe('ControllerService', () => {
  describe('registration', () => {
    it('registers a worker and answers with the epoch and no commands', () => {
      const { service } = makeService();
      const r = register(service, 'i1');
      expect(r).to.deep.equal({ t: 'register_ok', epoch: 'e1', commands: [] });
      expect(service.registry.size).to.equal(1);
      expect(service.workers()[0]).to.include({ instanceId: 'i1', workerId: 0, keys: 0 });
    });

    it('asks a worker that registers with keys for a full sync (controller restart)', () => {
      const { service } = makeService();
      const r = register(service, 'i1', 0, 5, { l1: 9 });
      expect(r).to.deep.include({ commands: [{ c: 'full_sync', reason: 'registration' }] });
      expect(service.stats.syncRequested.registration).to.equal(1);
    });

    it('treats an identical re-registration as a no-op and a changed one as new', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1, 2]));
      expect(register(service, 'i1', 0, 2, { l1: 2 })).to.deep.include({ commands: [] });
      expect(poolHashes(service, 'i1')).to.deep.equal([1, 2]);
      // A restarted worker with nothing: its old keys go at once.
      expect(register(service, 'i1', 0, 0, {})).to.deep.include({ commands: [] });
      expect(poolHashes(service, 'i1')).to.deep.equal([]);
    });

    it('deregister drops the worker and its keys', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1]));
      expect(service.handleRequest({ t: 'deregister', instanceId: 'i1', workerId: 0 })).to.deep.equal({ t: 'ok' });
      expect(service.registry.size).to.equal(0);
      expect(service.pool.size).to.equal(0);
    });

    it('rejects another protocol version with a hint', () => {
      const { service } = makeService();
      const r = service.handleRequest({ t: 'register', instanceId: 'i', workerId: 0, version: 99, seqs: {}, keyCount: 0 });
      expect(r).to.include({ t: 'error', code: 'ERR_PROTOCOL' });
    });
  });

  describe('heartbeats', () => {
    it('tells an unknown worker to register', () => {
      const { service } = makeService();
      const r = service.handleRequest({ t: 'heartbeat', instanceId: 'x', workerId: 0, seqs: {}, keyCount: 0 });
      expect(r).to.deep.equal({ t: 'heartbeat_ok', epoch: 'e1', known: false, commands: [{ c: 'register' }] });
    });

    it('carries queued commands (clear, manual full sync) once', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.requestClear('i1', 0);
      service.requestFullSync('i1', 0);
      const hb = () => service.handleRequest({ t: 'heartbeat', instanceId: 'i1', workerId: 0, seqs: {}, keyCount: 0 });
      expect(hb()).to.deep.include({ commands: [{ c: 'clear' }, { c: 'full_sync', reason: 'manual' }] });
      // The sync stays requested until the worker starts one; clear went once.
      expect(hb()).to.deep.include({ commands: [{ c: 'full_sync', reason: 'manual' }] });
    });

    it('detects lost trailing events: a number reported a heartbeat ago that never arrived', () => {
      const { service, clock } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1, 2]));
      const hb = (n: number) => service.handleRequest({ t: 'heartbeat', instanceId: 'i1', workerId: 0, seqs: { l1: n }, keyCount: 3 });
      expect(hb(3)).to.deep.include({ commands: [] }); // event 2 may still be in flight
      clock.now += 100;
      expect(hb(3)).to.deep.include({ commands: [] }); // still within the grace period
      clock.now += 500;
      expect(hb(3)).to.deep.include({ commands: [{ c: 'full_sync', reason: 'sequence_gap' }] });
      expect(service.stats.discontinuities).to.equal(1);
    });

    it('the reaper deregisters workers silent past the timeout and drops their keys', () => {
      const { service, clock } = makeService({ workerTimeoutMs: 1000 });
      register(service, 'i1');
      register(service, 'i2');
      service.handleEvent(admits('i1', 0, [1, 2]));
      clock.now += 600;
      service.handleRequest({ t: 'heartbeat', instanceId: 'i2', workerId: 0, seqs: {}, keyCount: 0 });
      clock.now += 600;
      service.sweep();
      expect(service.workers().map((w) => w.instanceId)).to.deep.equal(['i2']);
      expect(service.pool.size).to.equal(0);
      expect(service.stats.reaped).to.equal(1);
    });
  });

  describe('event batches', () => {
    it('applies batched admits and evicts in order', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(batch('i1', 0, ['+', '+', '-', '+', '-', '+'], [1, 2, 1, 3, 3, 3]));
      expect(poolHashes(service, 'i1')).to.deep.equal([2, 3]);
      expect(service.stats.ops).to.include({ admitApplied: 4, evictApplied: 2 });
    });

    it('counts a discontinuity, still applies the batch, and asks for a full sync', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1]));
      service.handleEvent(admits('i1', 5, [2]));
      expect(service.stats.discontinuities).to.equal(1);
      expect(poolHashes(service, 'i1')).to.deep.equal([1, 2]);
      const hb = service.handleRequest({ t: 'heartbeat', instanceId: 'i1', workerId: 0, seqs: { l1: 6 }, keyCount: 2 });
      expect(hb).to.deep.include({ commands: [{ c: 'full_sync', reason: 'sequence_gap' }] });
    });

    it('never applies an event twice (duplicated or overlapping batches)', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1, 2]));
      service.handleEvent(evicts('i1', 2, [1]));
      service.handleEvent(admits('i1', 0, [1, 2])); // duplicate of the first batch
      service.handleEvent(batch('i1', 2, ['-', '+'], [1, 7])); // overlaps: only event 3 is new
      expect(poolHashes(service, 'i1')).to.deep.equal([2, 7]);
      expect(service.stats.ops.admitDuplicate).to.equal(2);
      expect(service.stats.ops.evictDuplicate).to.equal(1);
      expect(service.stats.discontinuities).to.equal(0);
    });

    it('keeps sequence numbers per location', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1], 0, 'l1'));
      service.handleEvent(admits('i1', 0, [1], 0, 'l2:fs'));
      service.handleEvent(admits('i1', 1, [2], 0, 'l2:fs'));
      expect(service.stats.discontinuities).to.equal(0);
      expect(service.workers()[0]!.keysByLocation).to.deep.equal({ l1: 1, 'l2:fs': 2 });
    });

    it('drops events of unregistered workers (counted)', () => {
      const { service } = makeService();
      service.handleEvent(admits('ghost', 0, [1]));
      expect(service.pool.size).to.equal(0);
      expect(service.stats.droppedCount('pull', 'unknown_worker')).to.equal(1);
    });
  });

  describe('prefix lookup (multi-holder)', () => {
    const hex = (ns: number[]) => ns.map(hashOf);
    function twoHolders(a: number[], b: number[]) {
      const { service } = makeService();
      register(service, 'A');
      register(service, 'B');
      service.handleEvent(admits('A', 0, a));
      service.handleEvent(admits('B', 0, b));
      return service;
    }
    const lookup = (s: ReturnType<typeof twoHolders>, n: number[]) => s.lookupMsg({ t: 'lookup', scope: SCOPE, hashes: hex(n) });

    it('credits every holder with its own prefix, longest first', () => {
      const s = twoHolders([10, 11, 12], [10, 11]);
      expect(lookup(s, [10, 11, 12]).map((h) => [h.instanceId, h.tokens])).to.deep.equal([
        ['A', 768],
        ['B', 512],
      ]);
    });

    it('stops a holder at its first missing chunk, and never credits a suffix-only holder', () => {
      const s = twoHolders([10, 11, 12], [10, 12]);
      expect(lookup(s, [10, 11, 12]).map((h) => [h.instanceId, h.chunks])).to.deep.equal([
        ['A', 3],
        ['B', 1],
      ]);
      const s2 = twoHolders([10, 11], [11]);
      expect(lookup(s2, [10, 11]).map((h) => h.instanceId)).to.deep.equal(['A']);
    });

    it('answers nothing on a miss, an unknown scope, or an empty request', () => {
      const s = twoHolders([10], [10]);
      expect(lookup(s, [99])).to.deep.equal([]);
      expect(lookup(s, [])).to.deep.equal([]);
      expect(s.lookupMsg({ t: 'lookup', scope: { ...SCOPE, modelName: 'other' }, hashes: hex([10]) })).to.deep.equal([]);
    });

    it('counts a chunk held in any location, and reports each location\'s own prefix', () => {
      const { service } = makeService();
      register(service, 'A');
      service.handleEvent(admits('A', 0, [10, 11], 0, 'l1'));
      service.handleEvent(admits('A', 0, [12], 0, 'l2:fs'));
      const [h] = service.lookupMsg({ t: 'lookup', scope: SCOPE, hashes: hex([10, 11, 12, 13]) });
      expect(h).to.deep.include({ chunks: 3, locations: { l1: 2 } });
    });

    it('hashes tokens with the controller\'s chunk size', async () => {
      const { TokenHasher, objectKey } = await import('@tierkv/core');
      const { service } = makeService({ chunkSize: 4 });
      const tokens = Array.from({ length: 12 }, (_, i) => i);
      const hashes = new TokenHasher({ chunkSize: 4 }).hashChunks(tokens);
      register(service, 'A');
      const keys = hashes.slice(0, 2).map((h) => objectKey(h, 'm'));
      const { hashesToBytes } = await import('../../src/pool/chunk-hash.js');
      service.handleEvent({ t: 'kv_batch', instanceId: 'A', workerId: 0, location: LOC, scope: SCOPE, seq: 0, ops: new Uint8Array(2), hashes: hashesToBytes(keys.map((k) => k.chunkHash)) });
      expect(service.lookupMsg({ t: 'lookup', scope: SCOPE, tokens })).to.deep.equal([{ instanceId: 'A', workerId: 0, chunks: 2, tokens: 8, locations: { l1: 2 } }]);
    });
  });

  describe('full sync', () => {
    const start = (svc: ReturnType<typeof makeService>['service'], syncId: string, batchCount: number, seqs: Record<string, number> = {}, totalKeys = 0) =>
      svc.handleRequest({ t: 'sync_start', instanceId: 'i1', workerId: 0, syncId, totalKeys, batchCount, seqs });
    const end = (svc: ReturnType<typeof makeService>['service'], syncId: string) => svc.handleRequest({ t: 'sync_end', instanceId: 'i1', workerId: 0, syncId, totalKeys: 0 });
    const status = (svc: ReturnType<typeof makeService>['service'], syncId: string) => svc.handleRequest({ t: 'sync_status', instanceId: 'i1', workerId: 0, syncId });

    it('start, batches, end: swaps the key set only at the end', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1, 2, 3]));
      expect(start(service, 's1', 2, { l1: 3 })).to.deep.equal({ t: 'sync_start_ok', accepted: true });
      service.handleEvent(syncBatch('i1', 's1', 0, [2, 3]));
      service.handleEvent(syncBatch('i1', 's1', 1, [4]));
      // Until the end the old set answers lookups.
      expect(poolHashes(service, 'i1')).to.deep.equal([1, 2, 3]);
      expect(end(service, 's1')).to.deep.include({ state: 'completed', missing: [] });
      expect(poolHashes(service, 'i1')).to.deep.equal([2, 3, 4]);
      expect(service.stats.sessions.completed).to.equal(1);
      expect(service.syncProgress()).to.equal(1);
    });

    it('reports missing batches until they are resent', () => {
      const { service } = makeService();
      register(service, 'i1');
      start(service, 's1', 5);
      service.handleEvent(syncBatch('i1', 's1', 0, [1]));
      service.handleEvent(syncBatch('i1', 's1', 2, [3]));
      expect(status(service, 's1')).to.deep.include({ state: 'syncing', missing: [1, 3, 4], receivedBatches: 2, batchCount: 5 });
      expect(service.syncCounts()).to.deep.include({ syncing: 1, missingBatches: 3 });
      expect(end(service, 's1')).to.deep.include({ state: 'syncing', missing: [1, 3, 4] });
      for (const b of [1, 3, 4]) service.handleEvent(syncBatch('i1', 's1', b, [10 + b]));
      // The last batch after the end completes the sync by itself.
      expect(status(service, 's1')).to.deep.include({ state: 'completed', missing: [] });
      expect(poolHashes(service, 'i1')).to.deep.equal([1, 3, 11, 13, 14]);
    });

    it('rejects a start with another sync id while one runs; a retried start of the same id is accepted', () => {
      const { service } = makeService();
      register(service, 'i1');
      expect(start(service, 's1', 5)).to.deep.include({ accepted: true });
      expect(start(service, 's2', 10)).to.deep.include({ accepted: false });
      expect(start(service, 's1', 5)).to.deep.include({ accepted: true });
      expect(service.stats.sessions.rejected).to.equal(1);
    });

    it('ignores batches of another sync id', () => {
      const { service } = makeService();
      register(service, 'i1');
      start(service, 'right', 1);
      service.handleEvent(syncBatch('i1', 'wrong', 0, [1, 2, 3]));
      expect(status(service, 'right')).to.deep.include({ missing: [0] });
      expect(status(service, 'wrong')).to.deep.include({ state: 'unknown' });
    });

    it('times out to failed, then asks again on the next heartbeat', () => {
      const { service, clock } = makeService({ syncTimeoutMs: 1000, workerTimeoutMs: 60_000 });
      register(service, 'i1');
      start(service, 's1', 3);
      clock.now += 1500;
      service.sweep();
      expect(status(service, 's1')).to.deep.include({ state: 'failed' });
      expect(service.syncCounts()).to.deep.include({ failed: 1, syncing: 0 });
      const hb = service.handleRequest({ t: 'heartbeat', instanceId: 'i1', workerId: 0, seqs: {}, keyCount: 0 });
      expect(hb).to.deep.include({ commands: [{ c: 'full_sync', reason: 'sync_failed' }] });
      expect(start(service, 's2', 0)).to.deep.include({ accepted: true }); // a new id is fine now
    });

    it('neither loses nor double-applies events that arrive during the sync', () => {
      const { service } = makeService();
      register(service, 'i1');
      service.handleEvent(admits('i1', 0, [1, 2]));
      // Events 2..3 were sent before the snapshot point (4) but arrive during the sync; 4..5 after it.
      start(service, 's1', 1, { l1: 4 });
      service.handleEvent(batch('i1', 2, ['+', '-'], [3, 1]));
      service.handleEvent(batch('i1', 4, ['+', '-'], [5, 2]));
      expect(service.stats.ops.admitDeferred + service.stats.ops.evictDeferred).to.equal(2);
      service.handleEvent(syncBatch('i1', 's1', 0, [2, 3])); // the snapshot: after events 0..3
      end(service, 's1');
      expect(poolHashes(service, 'i1')).to.deep.equal([3, 5]);
      // A late duplicate of a pre-snapshot batch changes nothing.
      service.handleEvent(batch('i1', 2, ['+', '-'], [3, 1]));
      service.handleEvent(admits('i1', 6, [6]));
      expect(poolHashes(service, 'i1')).to.deep.equal([3, 5, 6]);
      expect(service.stats.discontinuities).to.equal(0);
    });

    it('converges to the worker\'s truth after lost, duplicated and reordered events plus a full sync (model)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 60 }),
          fc.array(fc.constantFrom('deliver', 'drop', 'dup', 'swap'), { minLength: 60, maxLength: 60 }),
          fc.integer({ min: 1, max: 5 }),
          (events, fates, batchSize) => {
            const { service } = makeService();
            register(service, 'i1');
            const truth = new Set<number>();
            const msgs = [];
            let seq = 0;
            for (let i = 0; i < events.length; i += batchSize) {
              const run = events.slice(i, i + batchSize).filter(([admit, h]) => admit !== truth.has(h) && (admit ? truth.add(h) : truth.delete(h)) !== undefined);
              if (run.length === 0) continue;
              msgs.push(batch('i1', seq, run.map(([a]) => (a ? '+' : '-')), run.map(([, h]) => h)));
              seq += run.length;
            }
            const wire = [];
            for (let i = 0; i < msgs.length; i++) {
              const fate = fates[i % fates.length];
              if (fate === 'drop') continue;
              wire.push(msgs[i]!);
              if (fate === 'dup') wire.push(msgs[i]!);
              if (fate === 'swap' && wire.length >= 2) wire.splice(-2, 2, wire[wire.length - 1]!, wire[wire.length - 2]!);
            }
            for (const m of wire) service.handleEvent(m);
            const lossy = wire.length !== msgs.length || fates.slice(0, msgs.length).some((f) => f !== 'deliver');
            if (!lossy) expect(poolHashes(service, 'i1')).to.deep.equal([...truth].sort((a, b) => a - b));
            start(service, 'sync', 1, { l1: seq });
            service.handleEvent(syncBatch('i1', 'sync', 0, [...truth]));
            end(service, 'sync');
            expect(poolHashes(service, 'i1')).to.deep.equal([...truth].sort((a, b) => a - b));
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
});

describe('ControllerService counters', () => {
  it('counts deferred events once and never as duplicates when they are replayed', () => {
    const { service } = makeService();
    register(service, 'i1');
    service.handleRequest({ t: 'sync_start', instanceId: 'i1', workerId: 0, syncId: 's', totalKeys: 0, batchCount: 0, seqs: { l1: 2 } });
    service.handleEvent(batch('i1', 0, ['+', '+', '+', '+'], [1, 2, 3, 4]));
    service.handleRequest({ t: 'sync_end', instanceId: 'i1', workerId: 0, syncId: 's', totalKeys: 0 });
    expect(service.stats.ops).to.include({ admitApplied: 4, admitDeferred: 2, admitDuplicate: 0 });
    expect(poolHashes(service, 'i1')).to.deep.equal([3, 4]);
  });
});
