import { expect } from 'chai';
import { QUERY_HELLO, QueryStreamError, QueryStreamReader, queryEndpointAddress, queryFrameHeader } from '../../src/protocol/query-stream.js';

function framed(...payloads: Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [queryFrameHeader(p), p]));
}

function reader(max = 1 << 20, hello = true): { r: QueryStreamReader; got: string[] } {
  const got: string[] = [];
  return { r: new QueryStreamReader(max, (p) => got.push(p.toString('latin1')), hello), got };
}

describe('query stream (plain-TCP envelope of the query listener)', () => {
  const stream = Buffer.concat([QUERY_HELLO, framed(Buffer.from('one'), Buffer.alloc(0), Buffer.from('x'.repeat(300)), Buffer.from('last'))]);
  const expected = ['one', '', 'x'.repeat(300), 'last'];

  it('cuts messages out of one read, and out of reads split at every byte', () => {
    const whole = reader();
    whole.r.push(stream);
    expect(whole.got).to.deep.equal(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      const split = reader();
      split.r.push(stream.subarray(0, cut));
      split.r.push(stream.subarray(cut));
      expect(split.got, `cut at ${cut}`).to.deep.equal(expected);
    }
    const bytes = reader();
    for (let i = 0; i < stream.length; i++) bytes.r.push(stream.subarray(i, i + 1));
    expect(bytes.got).to.deep.equal(expected);
    expect(bytes.r.bufferedBytes).to.equal(0);
  });

  it('hands a message inside one read on as a view of it, and gathers one that spans reads', () => {
    const seen: Buffer[] = [];
    const r = new QueryStreamReader(1024, (p) => seen.push(p), false);
    const chunk = framed(Buffer.from('abc'));
    r.push(chunk);
    expect(seen[0]!.buffer).to.equal(chunk.buffer);
    const big = framed(Buffer.from('y'.repeat(100)));
    r.push(big.subarray(0, 50));
    expect(r.bufferedBytes).to.equal(46);
    r.push(big.subarray(50));
    expect(seen[1]!.toString()).to.equal('y'.repeat(100));
  });

  it('refuses a stream that does not start with the hello, or speaks another version', () => {
    const http = reader();
    expect(() => http.r.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).to.throw(QueryStreamError, /TKCQ/).with.property('inHello', true);
    const zmtp = reader();
    expect(() => zmtp.r.push(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f]))).to.throw(QueryStreamError, /hello/);
    const v2 = reader();
    expect(() => v2.r.push(Buffer.from([0x54, 0x4b, 0x43, 0x51, 2]))).to.throw(QueryStreamError, /version 2/);
  });

  it('refuses a message above the cap before buffering any of it, and reads nothing after', () => {
    const { r, got } = reader(16);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(17, 0);
    let err: unknown;
    try {
      r.push(Buffer.concat([QUERY_HELLO, head]));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(QueryStreamError).with.property('inHello', false);
    expect((err as Error).message).to.match(/17 bytes.*capped at 16/);
    expect(r.bufferedBytes).to.equal(0);
    r.push(framed(Buffer.from('ok')));
    expect(got).to.deep.equal([]);
  });

  it('parses tierkv+tcp:// endpoints', () => {
    expect(queryEndpointAddress('tierkv+tcp://127.0.0.1:9303')).to.deep.equal({ host: '127.0.0.1', port: 9303 });
    expect(queryEndpointAddress('tierkv+tcp://[::1]:9303')).to.deep.equal({ host: '::1', port: 9303 });
    expect(queryEndpointAddress('tcp://127.0.0.1:9303')).to.equal(undefined);
    expect(queryEndpointAddress('tierkv+tcp://host:0')).to.equal(undefined);
    expect(queryEndpointAddress('tierkv+tcp://host')).to.equal(undefined);
  });
});
