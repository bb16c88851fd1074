import { expect } from 'chai';
import { FakeClock, closeAll, key, layout1k, manager } from './helpers.js';

describe('L1Manager lock generations', () => {
  afterEach(closeAll);

  it('a finish naming the reservation it holds succeeds; a stale or foreign one answers LOCK_NOT_HELD', () => {
    const l1 = manager();
    const k = key(1);
    expect(l1.reserveWrite([k], layout1k)[0]!.code).to.equal('SUCCESS');
    const [gen] = l1.generations([k]);
    expect(gen).to.be.greaterThan(0);
    expect(l1.finishWrite([k], [gen! + 1])[0]!.code).to.equal('LOCK_NOT_HELD');
    expect(l1.abortWrite([k], [gen! + 1])[0]!.code).to.equal('LOCK_NOT_HELD');
    expect(l1.inspect(k)!.state).to.equal('write_locked');
    expect(l1.finishWrite([k], [gen!])[0]!.code).to.equal('SUCCESS');
    // The same token again: the reservation is over.
    expect(l1.finishWrite([k], [gen!])[0]!.code).to.equal('LOCK_NOT_HELD');
  });

  it('an expired write reservation reissued to another writer is not finished by the first', () => {
    const clock = new FakeClock();
    const l1 = manager({ now: clock.now, writeLockTtlMs: 100 });
    const k = key(2);
    l1.reserveWrite([k], layout1k);
    const [first] = l1.generations([k]);
    clock.advance(101);
    expect(l1.reserveWrite([k], layout1k)[0]!.code).to.equal('SUCCESS');
    const [second] = l1.generations([k]);
    expect(second).to.not.equal(first);
    expect(l1.finishWrite([k], [first!])[0]!.code).to.equal('LOCK_NOT_HELD');
    expect(l1.finishWrite([k], [second!])[0]!.code).to.equal('SUCCESS');
  });

  it('read locks that expired are not released by their late holder; a fresh reader keeps its lock', () => {
    const clock = new FakeClock();
    const l1 = manager({ now: clock.now, readLockTtlMs: 100 });
    const k = key(3);
    l1.reserveWrite([k], layout1k);
    l1.finishWrite([k]);
    l1.reserveRead([k]);
    const [old] = l1.generations([k]);
    clock.advance(101);
    expect(l1.sweepExpiredLocks()).to.equal(1);
    l1.reserveRead([k]);
    const [fresh] = l1.generations([k]);
    expect(fresh).to.not.equal(old);
    expect(l1.unsafeRead([k], [old!])[0]!.code).to.equal('LOCK_NOT_HELD');
    expect(l1.finishRead([k], 1, [old!])[0]!.code).to.equal('LOCK_NOT_HELD');
    expect(l1.inspect(k)).to.include({ state: 'read_locked', readLocks: 1 });
    expect(l1.unsafeRead([k], [fresh!])[0]!.code).to.equal('SUCCESS');
    expect(l1.finishRead([k], 1, [fresh!])[0]!.code).to.equal('SUCCESS');
    expect(l1.inspect(k)).to.include({ state: 'ready', readLocks: 0 });
    expect(l1.memcheck().ok).to.equal(true);
  });

  it('a key deleted and written again has a new generation', () => {
    const l1 = manager();
    const k = key(4);
    l1.reserveWrite([k], layout1k);
    l1.finishWrite([k]);
    const [before] = l1.generations([k]);
    l1.delete([k]);
    expect(l1.generations([k])).to.deep.equal([0]);
    l1.reserveWrite([k], layout1k);
    l1.finishWrite([k]);
    expect(l1.generations([k])[0]).to.not.equal(before);
  });

  it('refuses a generations array of the wrong length', () => {
    const l1 = manager();
    expect(() => l1.finishWrite([key(5)], [])).to.throw(/generations/);
  });
});
