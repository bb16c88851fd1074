import { expect } from 'chai';
import fc from 'fast-check';
import { decodeMessage, decodeReply, encodeMessage } from '../../src/protocol/codec.js';
import { parseRouterFrames } from '../../src/protocol/router-frames.js';
import { bytesToHashes, hashesToBytes } from '../../src/pool/chunk-hash.js';
import { admits, SCOPE } from '../helpers/messages.js';

describe('protocol codec', () => {
  it('round-trips every message kind', () => {
    const msgs = [
      admits('i1', 3, [1, 2]),
      { t: 'register', instanceId: 'i', workerId: 2, version: 1, seqs: { l1: 4 }, keyCount: 1 },
      { t: 'heartbeat', instanceId: 'i', workerId: 0, seqs: {}, keyCount: 0 },
      { t: 'sync_start', instanceId: 'i', workerId: 0, syncId: 's', totalKeys: 1, batchCount: 1, seqs: {} },
      { t: 'sync_batch', instanceId: 'i', workerId: 0, syncId: 's', batch: 0, entries: [{ location: 'l1', scope: SCOPE, hashes: hashesToBytes(['00000000000000ff']) }] },
      { t: 'sync_end', instanceId: 'i', workerId: 0, syncId: 's', totalKeys: 1 },
      { t: 'sync_status', instanceId: 'i', workerId: 0, syncId: 's' },
      { t: 'deregister', instanceId: 'i', workerId: 0 },
      { t: 'lookup', scope: SCOPE, tokens: [1, 2, 3] },
      { t: 'lookup', scope: SCOPE, hashes: ['00000000000000ff'] },
      { t: 'query_workers' },
    ] as const;
    for (const m of msgs) {
      const d = decodeMessage(encodeMessage(m as never));
      expect(d.ok, JSON.stringify(d)).to.equal(true);
      const plain = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? [...x] : x?.type === 'Buffer' ? x.data : x));
      expect(plain(d.ok && d.msg)).to.equal(plain(m));
    }
  });

  it('classifies bad frames without throwing', () => {
    expect(decodeMessage(Buffer.alloc(0))).to.include({ ok: false, reason: 'malformed' });
    expect(decodeMessage(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).to.include({ ok: false, reason: 'malformed' });
    expect(decodeMessage(encodeMessage({ t: 'frobnicate' } as never))).to.include({ ok: false, reason: 'unknown_type' });
    expect(decodeMessage(encodeMessage({ ...admits('i', 0, [1]), hashes: new Uint8Array(7) }))).to.include({ ok: false, reason: 'invalid' });
    expect(decodeMessage(encodeMessage({ t: 'lookup', scope: SCOPE } as never))).to.include({ ok: false, reason: 'invalid' });
    expect(decodeMessage(encodeMessage({ t: 'register', instanceId: '', workerId: 0, version: 1, seqs: {}, keyCount: 0 }))).to.include({ ok: false, reason: 'invalid' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const d = decodeMessage(bytes);
        expect(d.ok).to.be.a('boolean');
        decodeReply(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('converts chunk hashes to 8-byte runs and back', () => {
    const hashes = ['0123456789abcdef', 'ffffffffffffffff', '0000000000000000'];
    expect(bytesToHashes(hashesToBytes(hashes))).to.deep.equal(hashes);
    expect(() => hashesToBytes(['xyz'])).to.throw(/16 lowercase hex/);
    // A bad character past the first entry names that entry (the joined decode stops there).
    expect(() => hashesToBytes(['0123456789abcdef', '0123456789abcdeg', 'ffffffffffffffff'])).to.throw(/entry 1 is "0123456789abcdeg"/);
    expect(() => hashesToBytes(['0123456789abcdef', 42 as unknown as string])).to.throw(/entry 1 is 42/);
  });
});

describe('ROUTER frame layouts', () => {
  const payload = encodeMessage({ t: 'query_workers' });
  it('takes the last frame of [identity, "", payload] (REQ-style DEALER)', () => {
    const r = parseRouterFrames([Buffer.from('id'), Buffer.alloc(0), payload]);
    expect(r?.identity.toString()).to.equal('id');
    expect(r?.envelope).to.have.length(1);
    expect(r?.payload).to.equal(payload);
  });
  it('takes the last frame of [identity, payload] (bare DEALER)', () => {
    const r = parseRouterFrames([Buffer.from('id'), payload]);
    expect(r?.envelope).to.have.length(0);
    expect(decodeMessage(r!.payload)).to.include({ ok: true });
  });
  it('rejects a lone frame', () => {
    expect(parseRouterFrames([payload])).to.equal(undefined);
  });
});
