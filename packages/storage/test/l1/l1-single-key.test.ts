import { expect } from 'chai';
import { ClosedError, InvalidArgumentError, MemoryLayout, type ObjectKey } from '@tierkv/core';
import { FakeClock, KIB, closeAll, key, layout1k, manager, put } from './helpers.js';

describe('L1Manager single-key calls', () => {
  afterEach(closeAll);

  it('refuse bad arguments with typed errors before changing anything, and a closed manager', () => {
    const m = manager();
    put(m, [key(1)]);
    expect(() => m.reserveReadOne(null as unknown as ObjectKey)).to.throw(InvalidArgumentError, /key/);
    expect(() => m.reserveReadOne(key(1), 129)).to.throw(InvalidArgumentError, /readLocks/);
    expect(() => m.finishReadOne(key(1), 1, 'x' as unknown as number)).to.throw(InvalidArgumentError, /generation/);
    expect(() => m.reserveWriteOne({ chunkHash: 'ab' } as ObjectKey, layout1k)).to.throw(InvalidArgumentError, /key/);
    expect(() => m.reserveWriteOne(key(2), layout1k, 'sometimes' as 'new')).to.throw(InvalidArgumentError, /mode/);
    expect(m.inspect(key(1))).to.include({ state: 'ready', readLocks: 0 });
    m.close();
    expect(() => m.reserveReadOne(key(1))).to.throw(ClosedError);
    expect(() => m.deleteOne(key(1))).to.throw(ClosedError);
  });

  it('tell listeners what the batch calls tell them (temporary objects are never reported written)', () => {
    const m = manager();
    const seen: string[] = [];
    const ids = (ks: readonly ObjectKey[]) => ks.map((k) => parseInt(k.chunkHash, 16)).join(',');
    m.addListener({
      onL1KeysReservedWrite: (ks) => seen.push(`reservedWrite ${ids(ks)}`),
      onL1KeysWriteFinished: (ks) => seen.push(`written ${ids(ks)}`),
      onL1KeysReservedRead: (ks) => seen.push(`reservedRead ${ids(ks)}`),
      onL1KeysReadFinished: (ks) => seen.push(`readFinished ${ids(ks)}`),
      onL1KeysDeleted: (ks) => seen.push(`deleted ${ids(ks)}`),
    });
    m.reserveWriteOne(key(1), layout1k);
    m.finishWriteOne(key(1));
    m.reserveWriteOne(key(2), layout1k, 'new', { temporary: true });
    m.finishWriteOne(key(2));
    m.reserveReadOne(key(1));
    m.finishReadOne(key(1));
    m.reserveReadOne(key(3)); // absent: nobody is told
    m.deleteOne(key(1));
    expect(seen).to.deep.equal(['reservedWrite 1', 'written 1', 'reservedWrite 2', 'reservedRead 1', 'readFinished 1', 'deleted 1']);
  });

  it('a release by an expired lock generation answers LOCK_NOT_HELD and keeps the locks taken since', () => {
    const clock = new FakeClock();
    const m = manager({ readLockTtlMs: 100, now: clock.now });
    put(m, [key(1)]);
    expect(m.reserveReadOne(key(1)).code).to.equal('SUCCESS');
    const mine = m.generationOf(key(1));
    clock.advance(150); // my lock expired
    expect(m.reserveReadOne(key(1)).code).to.equal('SUCCESS'); // another reader
    expect(m.finishReadOne(key(1), 1, mine).code).to.equal('LOCK_NOT_HELD');
    expect(m.inspect(key(1))).to.include({ readLocks: 1 });
    expect(m.finishReadOne(key(1), 1, m.generationOf(key(1))).code).to.equal('SUCCESS');
    expect(m.finishReadOne(key(1)).code).to.equal('KEY_IN_WRONG_STATE');
    expect(m.generationOf(key(9))).to.equal(0);
    expect(m.memcheck().problems).to.deep.equal([]);
  });

  it('an update to a size that cannot fit leaves the object as it was', () => {
    const m = manager({ capacityBytes: 4 * KIB, triggerWatermark: 1 });
    put(m, [key(1)]);
    const before = m.generationOf(key(1));
    m.reserveReadOne(key(1)).obj!.data.fill(7);
    m.finishReadOne(key(1));
    expect(m.reserveWriteOne(key(1), MemoryLayout.bytes(4 * KIB), 'update').code).to.equal('OUT_OF_MEMORY');
    expect(m.inspect(key(1))).to.include({ state: 'ready', byteSize: KIB });
    expect(m.generationOf(key(1))).to.equal(before);
    expect(m.reserveReadOne(key(1)).obj!.data[0]).to.equal(7);
    m.finishReadOne(key(1));
    // A size that fits beside the old block (freed once the new one is had) moves it there.
    const r = m.reserveWriteOne(key(1), MemoryLayout.bytes(2 * KIB), 'update');
    expect(r.code).to.equal('SUCCESS');
    expect(r.obj!.data.byteLength).to.equal(2 * KIB);
    expect(m.finishWriteOne(key(1)).code).to.equal('SUCCESS');
    expect(m.memcheck().problems).to.deep.equal([]);
  });
});
