import { expect } from 'chai';
import fc from 'fast-check';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { L1Manager, type WriteMode } from '../../src/l1/l1-manager.js';
import type { EvictionReason } from '../../src/l1/l1-listener.js';
import type { L1KeyResult } from '../../src/l1/l1-result.js';
import { FakeClock, KIB } from './helpers.js';

// Model-based test: random sequences of L1 calls run against L1Manager and a plain Map model.
// One object size (1 KiB, a multiple of the alignment) keeps allocation exact: an allocation
// succeeds iff enough bytes are free, so the model can predict OUT_OF_MEMORY and how many objects
// each eviction takes. Which objects are evicted is checked loosely (they must have been evictable
// in the model); exact LRU order is covered by the unit tests.

const RUNS = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 60);
const CAPACITY = 8 * KIB;
const SIZE = KIB;
const TRIGGER = 0.75;
const RATIO = 0.125;
const WRITE_TTL = 90;
const READ_TTL = 60;
const KEY_SPACE = 16;
const layout = MemoryLayout.bytes(SIZE);

interface ModelObject {
  writeLocked: boolean;
  readers: number;
  temporary: boolean;
  writeExpiry: number;
  readExpiry: number;
  /** Byte written at data[0] by the last writer; checked by readers. */
  marker: number;
  /**
   * Changes whenever the real lock generation must: a write lock taken or released, read locks
   * expired (and a new object under the key gets a new one).
   */
  epoch: number;
}

/** A read lock a single-key reader took: the key, the model's epoch and the real generation then. */
interface Token {
  id: number;
  epoch: number;
  gen: number;
}

interface Model {
  objects: Map<number, ModelObject>;
  now: number;
  marker: number;
  epoch: number;
  tokens: Token[];
}

interface Real {
  l1: L1Manager;
  clock: FakeClock;
  evicted: { ids: number[]; reason: EvictionReason }[];
}

// Four ids share each chunk hash (kvRanks 0-3), so the index's chains of keys with one hash are
// exercised by every call.
const toKey = (id: number): ObjectKey => objectKey((id >> 2).toString(16).padStart(16, '0'), 'test-model', id & 3);
const idOf = (k: ObjectKey) => parseInt(k.chunkHash, 16) * 4 + k.kvRank;
const evictable = (o: ModelObject) => !o.writeLocked && o.readers === 0;

function evictableCount(m: Model): number {
  let n = 0;
  for (const o of m.objects.values()) if (evictable(o)) n++;
  return n;
}

/** Removes the objects the real manager reported evicted, checking the model allowed it. */
function applyEvictions(m: Model, r: Real, expected: number, reason: EvictionReason): void {
  const reported = r.evicted.filter((e) => e.reason === reason).flatMap((e) => e.ids);
  expect(reported.length, `${reason} evictions`).to.equal(expected);
  for (const id of reported) {
    const o = m.objects.get(id);
    expect(o, `evicted key ${id} exists in the model`).to.not.equal(undefined);
    expect(evictable(o!), `evicted key ${id} was evictable`).to.equal(true);
    m.objects.delete(id);
  }
}

// How often each eviction reason came up across runs, to check the generators reach them.
const seen: Record<EvictionReason, number> = { watermark: 0, on_demand: 0, lock_expired: 0, temporary_released: 0 };
// How often each outcome of releasing a remembered lock came up.
const tokenOutcomes: Record<string, number> = {};

function checkInvariants(m: Model, r: Real): void {
  for (const e of r.evicted) seen[e.reason] += e.ids.length;
  const report = r.l1.memcheck();
  expect(report.problems).to.deep.equal([]);
  const usage = r.l1.usage();
  expect(usage.objects).to.equal(m.objects.size);
  expect(usage.usedBytes).to.equal(m.objects.size * SIZE);
  let wl = 0;
  let rl = 0;
  for (const o of m.objects.values()) {
    if (o.writeLocked) wl++;
    else if (o.readers > 0) rl++;
  }
  expect(usage.byState).to.deep.equal({ writeLocked: wl, ready: m.objects.size - wl - rl, readLocked: rl });
  r.evicted.length = 0;
}

const codes = (results: readonly L1KeyResult<unknown>[]) => results.map((x) => x.code);

class ReserveWrite implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly mode: WriteMode,
    readonly temporary: boolean,
    readonly partial = false,
    readonly one = false,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected: string[] = [];
    const pending: number[] = [];
    for (const id of this.ids) {
      const o = m.objects.get(id);
      if (!o) {
        if (this.mode === 'update' || pending.includes(id)) expected.push('KEY_NOT_WRITABLE');
        else {
          pending.push(id);
          expected.push('PENDING');
        }
      } else if (this.mode === 'new' || o.writeLocked || o.readers > 0 || o.temporary) {
        expected.push('KEY_NOT_WRITABLE');
      } else {
        o.writeLocked = true;
        o.temporary = this.temporary;
        o.writeExpiry = m.now + WRITE_TTL;
        o.marker = ++m.marker & 0xff;
        o.epoch = ++m.epoch;
        expected.push('SUCCESS');
      }
    }
    const free = CAPACITY - m.objects.size * SIZE;
    const need = pending.length * SIZE;
    let onDemand = 0;
    let fits = 0; // how many pending keys get memory, in key order
    if (this.partial) {
      let left = free;
      let evictableLeft = evictableCount(m);
      for (let p = 0; p < pending.length; p++) {
        if (left >= SIZE) left -= SIZE;
        else if (evictableLeft > 0) {
          evictableLeft--;
          onDemand++;
        } else break;
        fits++;
      }
    } else if (need > 0 && need <= free + evictableCount(m) * SIZE) {
      onDemand = Math.max(0, need - free) / SIZE;
      fits = pending.length;
    }
    // A single-key command goes through reserveWriteOne (a batch of one: partial changes nothing).
    const results = this.one
      ? [r.l1.reserveWriteOne(toKey(this.ids[0]!), layout, this.mode, { temporary: this.temporary })]
      : r.l1.reserveWrite(this.ids.map(toKey), layout, this.mode, { temporary: this.temporary, partial: this.partial });
    applyEvictions(m, r, onDemand, 'on_demand');
    let seenPending = 0;
    for (let i = 0; i < this.ids.length; i++) {
      if (expected[i] !== 'PENDING') continue;
      if (seenPending++ >= fits) expected[i] = 'OUT_OF_MEMORY';
      else {
        expected[i] = 'SUCCESS';
        m.objects.set(this.ids[i]!, { writeLocked: true, readers: 0, temporary: this.temporary, writeExpiry: m.now + WRITE_TTL, readExpiry: 0, marker: ++m.marker & 0xff, epoch: ++m.epoch });
      }
    }
    expect(codes(results)).to.deep.equal(expected);
    // Writers fill their objects; the marker is checked by later reads.
    for (let i = 0; i < this.ids.length; i++) {
      const res = results[i]!;
      if (res.code === 'SUCCESS' && expected[i] === 'SUCCESS') {
        expect(res.obj!.data.byteLength).to.equal(SIZE);
        res.obj!.data.fill(m.objects.get(this.ids[i]!)!.marker);
      }
    }
    // Watermark eviction after the batch.
    const used = m.objects.size * SIZE;
    const trigger = Math.floor(CAPACITY * TRIGGER);
    let watermark = 0;
    if (used > trigger) {
      // Only what eviction can free: out of reach → nothing; margin out of reach → just back under.
      const evictable = evictableCount(m) * SIZE;
      const backUnder = used - trigger;
      const withMargin = backUnder + Math.floor(CAPACITY * RATIO);
      const bytes = backUnder > evictable ? 0 : withMargin <= evictable ? withMargin : backUnder;
      watermark = Math.ceil(bytes / SIZE);
    }
    applyEvictions(m, r, watermark, 'watermark');
    checkInvariants(m, r);
  }
  toString = () => `reserveWrite${this.one ? 'One' : ''}(${this.ids}, ${this.mode}${this.temporary ? ', temporary' : ''}${this.partial ? ', partial' : ''})`;
}

class FinishWrite implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly readLocks: number,
    readonly one = false,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = this.ids.map((id) => {
      const o = m.objects.get(id);
      if (!o) return 'KEY_NOT_EXIST';
      if (!o.writeLocked) return 'KEY_IN_WRONG_STATE';
      o.writeLocked = false;
      o.epoch = ++m.epoch;
      if (this.readLocks > 0) {
        o.readers = this.readLocks;
        o.readExpiry = m.now + READ_TTL;
      }
      return 'SUCCESS';
    });
    const keys = this.ids.map(toKey);
    const results = this.readLocks > 0 ? r.l1.finishWriteAndReserveRead(keys, this.readLocks) : this.one ? keys.map((k) => r.l1.finishWriteOne(k)) : r.l1.finishWrite(keys);
    expect(codes(results)).to.deep.equal(expected);
    checkInvariants(m, r);
  }
  toString = () => (this.readLocks > 0 ? `finishWriteAndReserveRead(${this.ids}, ${this.readLocks})` : `finishWrite${this.one ? 'One' : ''}(${this.ids})`);
}

class AbortWrite implements fc.Command<Model, Real> {
  constructor(readonly ids: number[]) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = this.ids.map((id) => {
      const o = m.objects.get(id);
      if (!o) return 'KEY_NOT_EXIST';
      if (!o.writeLocked) return 'KEY_IN_WRONG_STATE';
      m.objects.delete(id);
      return 'SUCCESS';
    });
    expect(codes(r.l1.abortWrite(this.ids.map(toKey)))).to.deep.equal(expected);
    checkInvariants(m, r);
  }
  toString = () => `abortWrite(${this.ids})`;
}

class ReserveRead implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly n: number,
    readonly one = false,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = this.ids.map((id) => {
      const o = m.objects.get(id);
      if (!o) return 'KEY_NOT_EXIST';
      if (o.writeLocked) return 'KEY_NOT_READABLE';
      o.readers += this.n;
      o.readExpiry = m.now + READ_TTL;
      return 'SUCCESS';
    });
    // Single-key calls, key after key, answer what the batch answers (nothing couples keys here).
    const results = this.one ? this.ids.map((id) => r.l1.reserveReadOne(toKey(id), this.n)) : r.l1.reserveRead(this.ids.map(toKey), this.n);
    expect(codes(results)).to.deep.equal(expected);
    if (this.one) {
      // Each reader remembers its lock's generation, to release exactly that lock later.
      this.ids.forEach((id, i) => {
        if (results[i]!.code === 'SUCCESS') m.tokens.push({ id, epoch: m.objects.get(id)!.epoch, gen: r.l1.generationOf(toKey(id)) });
      });
    }
    results.forEach((res, i) => {
      if (res.code !== 'SUCCESS') return;
      expect(idOf(res.obj!.key)).to.equal(this.ids[i]);
      expect(res.obj!.data[0], `data of key ${this.ids[i]}`).to.equal(m.objects.get(this.ids[i]!)!.marker);
      expect(res.obj!.data[SIZE - 1]).to.equal(m.objects.get(this.ids[i]!)!.marker);
    });
    checkInvariants(m, r);
  }
  toString = () => `reserveRead${this.one ? 'One' : ''}(${this.ids}, ${this.n})`;
}

class FinishRead implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly n: number,
    readonly one = false,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    let released = 0;
    const expected = this.ids.map((id) => {
      const o = m.objects.get(id);
      if (!o) return 'KEY_NOT_EXIST';
      if (o.writeLocked || o.readers === 0) return 'KEY_IN_WRONG_STATE';
      o.readers = Math.max(0, o.readers - this.n);
      if (o.readers === 0 && o.temporary) {
        m.objects.delete(id);
        released++;
      }
      return 'SUCCESS';
    });
    const results = this.one ? this.ids.map((id) => r.l1.finishReadOne(toKey(id), this.n)) : r.l1.finishRead(this.ids.map(toKey), this.n);
    expect(codes(results)).to.deep.equal(expected);
    expect(r.evicted.filter((e) => e.reason === 'temporary_released').flatMap((e) => e.ids).length).to.equal(released);
    checkInvariants(m, r);
  }
  toString = () => `finishRead${this.one ? 'One' : ''}(${this.ids}, ${this.n})`;
}

class Delete implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly one = false,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    const expected = this.ids.map((id) => {
      const o = m.objects.get(id);
      if (!o) return 'KEY_NOT_EXIST';
      if (!evictable(o)) return 'KEY_IS_LOCKED';
      m.objects.delete(id);
      return 'SUCCESS';
    });
    const results = this.one ? this.ids.map((id) => r.l1.deleteOne(toKey(id))) : r.l1.delete(this.ids.map(toKey));
    expect(codes(results)).to.deep.equal(expected);
    expect(r.l1.contains(this.ids.map(toKey))).to.deep.equal(this.ids.map((id) => m.objects.has(id) && !m.objects.get(id)!.writeLocked));
    checkInvariants(m, r);
  }
  toString = () => `delete${this.one ? 'One' : ''}(${this.ids})`;
}

class Clear implements fc.Command<Model, Real> {
  check = () => true;
  run(m: Model, r: Real): void {
    let n = 0;
    for (const [id, o] of m.objects) {
      if (evictable(o)) {
        m.objects.delete(id);
        n++;
      }
    }
    expect(r.l1.clear()).to.equal(n);
    checkInvariants(m, r);
  }
  toString = () => 'clear()';
}

class Advance implements fc.Command<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.clock.advance(this.ms);
    let writeExpired = 0;
    let temporaryReleased = 0;
    for (const [id, o] of m.objects) {
      if (o.writeLocked && o.writeExpiry <= m.now) {
        m.objects.delete(id);
        writeExpired++;
      } else if (o.readers > 0 && o.readExpiry <= m.now) {
        o.readers = 0;
        o.epoch = ++m.epoch;
        if (o.temporary) {
          m.objects.delete(id);
          temporaryReleased++;
        }
      }
    }
    r.l1.sweepExpiredLocks();
    expect(r.evicted.filter((e) => e.reason === 'lock_expired').flatMap((e) => e.ids).length).to.equal(writeExpired);
    expect(r.evicted.filter((e) => e.reason === 'temporary_released').flatMap((e) => e.ids).length).to.equal(temporaryReleased);
    checkInvariants(m, r);
  }
  toString = () => `advance(${this.ms} ms)`;
}

/**
 * finishReadOne with the generation a single-key reader remembered: LOCK_NOT_HELD once that lock
 * expired or the key's object was rewritten or replaced since, whatever locks others took since.
 */
class ReleaseToken implements fc.Command<Model, Real> {
  constructor(
    readonly pick: number,
    readonly n: number,
  ) {}
  check = (m: Readonly<Model>) => m.tokens.length > 0;
  run(m: Model, r: Real): void {
    const [token] = m.tokens.splice(this.pick % m.tokens.length, 1);
    const o = m.objects.get(token!.id);
    let expected: string;
    let released = 0;
    if (!o) expected = 'KEY_NOT_EXIST';
    else if (o.epoch !== token!.epoch) expected = 'LOCK_NOT_HELD';
    else if (o.writeLocked || o.readers === 0) expected = 'KEY_IN_WRONG_STATE';
    else {
      expected = 'SUCCESS';
      o.readers = Math.max(0, o.readers - this.n);
      if (o.readers === 0 && o.temporary) {
        m.objects.delete(token!.id);
        released++;
      }
    }
    tokenOutcomes[expected] = (tokenOutcomes[expected] ?? 0) + 1;
    expect(r.l1.finishReadOne(toKey(token!.id), this.n, token!.gen).code).to.equal(expected);
    expect(r.evicted.filter((e) => e.reason === 'temporary_released').flatMap((e) => e.ids).length).to.equal(released);
    checkInvariants(m, r);
  }
  toString = () => `releaseToken(#${this.pick}, ${this.n})`;
}

/** reserveWrite then finishWrite of the same keys: the common path, so the arena fills up. */
class Put implements fc.Command<Model, Real> {
  constructor(
    readonly ids: number[],
    readonly temporary: boolean,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    new ReserveWrite(this.ids, 'new', this.temporary).run(m, r);
    new FinishWrite(this.ids, 0).run(m, r);
  }
  toString = () => `put(${this.ids}${this.temporary ? ', temporary' : ''})`;
}

/** Finishes (or aborts) every write the model has pending; keys picked at run time. */
class FinishPending implements fc.Command<Model, Real> {
  constructor(readonly how: 'finish' | 'read' | 'abort') {}
  check = (m: Readonly<Model>) => [...m.objects.values()].some((o) => o.writeLocked);
  run(m: Model, r: Real): void {
    const pending = [...m.objects].filter(([, o]) => o.writeLocked).map(([id]) => id);
    if (this.how === 'abort') new AbortWrite(pending).run(m, r);
    else new FinishWrite(pending, this.how === 'read' ? 1 : 0).run(m, r);
  }
  toString = () => `finishPending(${this.how})`;
}

/** Releases one read lock of every read-locked key. */
class ReleaseReaders implements fc.Command<Model, Real> {
  check = (m: Readonly<Model>) => [...m.objects.values()].some((o) => o.readers > 0);
  run(m: Model, r: Real): void {
    new FinishRead([...m.objects].filter(([, o]) => o.readers > 0).map(([id]) => id), 1).run(m, r);
  }
  toString = () => 'releaseReaders()';
}

const ids = fc.array(fc.integer({ min: 0, max: KEY_SPACE - 1 }), { minLength: 1, maxLength: 6 });
const one = fc.integer({ min: 0, max: KEY_SPACE - 1 }).map((id) => [id]);
const commands = [
  fc.tuple(ids, fc.constantFrom<WriteMode>('new', 'update', 'all'), fc.boolean(), fc.boolean()).map(([k, mode, t, partial]) => new ReserveWrite(k, mode, t && mode === 'new', partial)),
  fc.tuple(ids, fc.constantFrom(0, 0, 1, 2)).map(([k, n]) => new FinishWrite(k, n)),
  ids.map((k) => new AbortWrite(k)),
  fc.tuple(ids, fc.integer({ min: 1, max: 3 })).map(([k, n]) => new ReserveRead(k, n)),
  fc.tuple(ids, fc.integer({ min: 1, max: 3 })).map(([k, n]) => new FinishRead(k, n)),
  ids.map((k) => new Delete(k)),
  fc.constant(new Clear()),
  fc.integer({ min: 1, max: 60 }).map((ms) => new Advance(ms)),
  fc.tuple(ids, fc.boolean()).map(([k, t]) => new Put(k, t)),
  fc.tuple(ids, fc.constant(false)).map(([k, t]) => new Put(k, t)),
  fc.tuple(ids, fc.constant(false)).map(([k, t]) => new Put(k, t)),
  fc.constantFrom<'finish' | 'read' | 'abort'>('finish', 'finish', 'read', 'abort').map((how) => new FinishPending(how)),
  fc.constant(new ReleaseReaders()),
  // The single-key calls, interleaved with the batch calls on the same keys.
  fc.tuple(one, fc.constantFrom<WriteMode>('new', 'new', 'update', 'all'), fc.boolean()).map(([k, mode, t]) => new ReserveWrite(k, mode, t && mode === 'new', false, true)),
  one.map((k) => new FinishWrite(k, 0, true)),
  fc.tuple(ids, fc.integer({ min: 1, max: 3 })).map(([k, n]) => new ReserveRead(k, n, true)),
  fc.tuple(ids, fc.integer({ min: 1, max: 3 })).map(([k, n]) => new ReserveRead(k, n, true)),
  fc.tuple(ids, fc.integer({ min: 1, max: 3 })).map(([k, n]) => new FinishRead(k, n, true)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 2 })).map(([pick, n]) => new ReleaseToken(pick, n)),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 2 })).map(([pick, n]) => new ReleaseToken(pick, n)),
  ids.map((k) => new Delete(k, true)),
];

describe('L1Manager (model-based)', () => {
  it('matches a Map model and passes memcheck after every step (CLOCK and LRU)', () => {
    fc.assert(
      // Both policies keep read-locked objects and must pass over them when asked for a victim.
      fc.property(fc.constantFrom<'clock' | 'lru'>('clock', 'lru'), fc.commands(commands, { maxCommands: 80, size: 'large' }), (eviction, cmds) => {
        const clock = new FakeClock();
        const evicted: Real['evicted'] = [];
        const l1 = new L1Manager({
          capacityBytes: CAPACITY,
          alignBytes: 256,
          triggerWatermark: TRIGGER,
          evictionRatio: RATIO,
          writeLockTtlMs: WRITE_TTL,
          readLockTtlMs: READ_TTL,
          lockSweepIntervalMs: 0,
          now: clock.now,
          eviction,
        });
        l1.addListener({ onL1KeysEvicted: (ks, reason) => evicted.push({ ids: ks.map(idOf), reason }) });
        try {
          fc.modelRun(() => ({ model: { objects: new Map(), now: clock.ms, marker: 0, epoch: 0, tokens: [] }, real: { l1, clock, evicted } }), cmds);
        } finally {
          l1.close();
        }
      }),
      { numRuns: RUNS },
    );
    if (process.env['TIERKV_MODEL_STATS']) console.log(seen, tokenOutcomes);
  });
});
