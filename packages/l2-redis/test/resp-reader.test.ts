import { expect } from 'chai';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, RespProtocolError, RespReader, SCRATCH_BYTES, type ReplySink } from '../src/resp-reader.js';

const runs = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);

/** A sink that records what it got; a bulk gathers `gather` bytes, then reads the rest into `target` (or drops it). */
class Recorder implements ReplySink {
  readonly events: string[] = [];
  head0: Buffer | undefined;
  constructor(
    readonly expectedBytes: number,
    readonly target?: Uint8Array,
    readonly gather = 0,
  ) {}
  line(type: string, text: string): void {
    this.events.push(`${type}${text}`);
  }
  nil(): void {
    this.events.push('nil');
  }
  begin(length: number): number {
    this.events.push(`begin ${length}`);
    return Math.min(length, this.gather);
  }
  head(bytes: Buffer): number | Uint8Array | undefined {
    this.head0 = Buffer.from(bytes);
    return this.target;
  }
  end(): void {
    this.events.push('end');
  }
}

/**
 * Feeds `stream` to a reader as node:net's onread would: each read lands in the buffer the reader
 * handed out, at most `cuts[i]` bytes (and at most what that buffer holds). Records every buffer.
 */
function feed(reader: RespReader, stream: Buffer, cuts: readonly number[] = []): Uint8Array[] {
  const handed: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const buf = reader.nextReadBuffer();
    handed.push(buf);
    expect(buf.byteLength, 'never an empty read buffer').to.be.greaterThan(0);
    const n = Math.min(buf.byteLength, stream.length - at, cuts.length > 0 ? Math.max(1, cuts[i++ % cuts.length]!) : Infinity);
    buf.set(stream.subarray(at, at + n));
    at += n;
    reader.read(n);
  }
  return handed;
}

function readerFor(sinks: ReplySink[]): RespReader {
  let next = 0;
  return new RespReader({ take: () => sinks[next++], upcomingBytes: () => sinks[next]?.expectedBytes ?? 0 });
}

const bulk = (b: Uint8Array): Buffer => Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);

describe('RespReader', () => {
  it('reads status, error, integer, nil and bulk replies in any split, bodies straight into their targets (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 3 }), (cuts, gather) => {
        const big = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) & 255));
        const small = Buffer.from('small value');
        const dropped = Buffer.alloc(70_000, 9);
        const stream = Buffer.concat([Buffer.from('+OK\r\n-ERR no\r\n:42\r\n$-1\r\n'), bulk(big), bulk(dropped), bulk(small), bulk(Buffer.alloc(0))]);
        const bigTarget = new Uint8Array(big.length - gather);
        const smallTarget = new Uint8Array(small.length - gather);
        const sinks = [new Recorder(0), new Recorder(0), new Recorder(0), new Recorder(0), new Recorder(big.length, bigTarget, gather), new Recorder(dropped.length, undefined, gather), new Recorder(small.length, smallTarget, gather), new Recorder(0, new Uint8Array(0))];
        feed(readerFor(sinks), stream, cuts);
        expect(sinks.slice(0, 4).map((s) => s.events)).to.deep.equal([['+OK'], ['-ERR no'], [':42'], ['nil']]);
        expect(sinks[4]!.events).to.deep.equal([`begin ${big.length}`, 'end']);
        expect(Buffer.compare(Buffer.concat([sinks[4]!.head0!, bigTarget]), big)).to.equal(0);
        expect(sinks[5]!.events).to.deep.equal([`begin ${dropped.length}`, 'end']);
        expect(Buffer.compare(Buffer.concat([sinks[6]!.head0!, smallTarget]), small)).to.equal(0);
        expect(sinks[7]!.events).to.deep.equal(['begin 0', 'end']);
      }),
      { numRuns: Math.max(20, runs / 2) },
    );
  });

  it('reads a large body into its target without copying it through its own buffer, and never hands the target out once it is full', () => {
    const value = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i & 255));
    const target = new Uint8Array(value.length);
    const sink = new Recorder(value.length, target);
    const handed = feed(readerFor([sink, new Recorder(0)]), Buffer.concat([bulk(value), Buffer.from('+OK\r\n')]));
    expect(Buffer.compare(target, value)).to.equal(0);
    const intoTarget = handed.filter((b) => b.buffer === target.buffer).reduce((n, b) => n + b.byteLength, 0);
    // Framing reads are short (a few hundred bytes) before a large reply: the rest is read in place.
    expect(intoTarget, 'bytes read straight into the target').to.be.greaterThan(value.length - 1024);
    const last = handed.findLastIndex((b) => b.buffer === target.buffer);
    expect(handed.slice(last + 1).length, 'reads after the body go elsewhere').to.be.greaterThan(0);
  });

  it('bounds what a peer can make it hold: a huge bulk length is dropped through the fixed buffer, never allocated', () => {
    const sink = new Recorder(0); // drops the body
    const reader = readerFor([sink]);
    const chunk = Buffer.alloc(SCRATCH_BYTES, 1);
    const first = Buffer.from(`$${10 ** 14}\r\n`);
    const handed = feed(reader, first);
    for (let i = 0; i < 64; i++) handed.push(...feed(reader, chunk));
    for (const b of handed) expect(b.byteLength).to.be.at.most(SCRATCH_BYTES);
    expect(sink.events).to.deep.equal([`begin ${10 ** 14}`]);
  });

  it('refuses a broken stream with a RespProtocolError naming what was wrong', () => {
    const cases: [string, Buffer, ReplySink[]][] = [
      ['a reply nobody asked for', Buffer.from('+OK\r\n'), []],
      ['bulk length', Buffer.from('$12x\r\n'), [new Recorder(0)]],
      ['bulk length', Buffer.from('$-2\r\n'), [new Recorder(0)]],
      ['longer than its length', Buffer.from('$3\r\nabcd\r\n'), [new Recorder(3, new Uint8Array(3))]],
      ['not ended by CRLF', Buffer.from('+OK\n'), [new Recorder(0)]],
      ['unexpected reply type', Buffer.from('*1\r\n'), [new Recorder(0)]],
      ['longer than', Buffer.concat([Buffer.from('-'), Buffer.alloc(SCRATCH_BYTES, 65)]), [new Recorder(0)]],
    ];
    for (const [what, stream, sinks] of cases) {
      let thrown: unknown;
      try {
        feed(readerFor(sinks), stream);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, what).to.be.instanceOf(RespProtocolError);
      expect((thrown as Error).message, what).to.contain(what);
    }
  });

  it('lets a sink gather a header in steps, up to MAX_HEAD_BYTES and no further', () => {
    class Stepper extends Recorder {
      override begin(): number {
        return 2;
      }
      override head(bytes: Buffer): number | Uint8Array | undefined {
        if (bytes.length < 5) return 5;
        this.head0 = Buffer.from(bytes);
        return this.target;
      }
    }
    const target = new Uint8Array(5);
    const s = new Stepper(10, target);
    feed(readerFor([s]), bulk(Buffer.from('0123456789')), [1]);
    expect(s.head0!.toString()).to.equal('01234');
    expect(Buffer.from(target).toString()).to.equal('56789');
    class Greedy extends Recorder {
      override begin(): number {
        return MAX_HEAD_BYTES + 1;
      }
    }
    expect(() => feed(readerFor([new Greedy(0)]), Buffer.from(`$${MAX_HEAD_BYTES + 10}\r\n`))).to.throw(RespProtocolError);
  });
});
