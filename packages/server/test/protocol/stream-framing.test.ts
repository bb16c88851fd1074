import { expect } from 'chai';
import { encodeFrameTable, encodeHello, messageBuffers } from '../../src/protocol/stream-envelope.js';
import { FrameReader, StreamFramingError, type StreamLimits } from '../../src/protocol/stream-framing.js';
import { patternBytes } from '../helpers/keys.js';

const LIMITS: StreamLimits = { maxFrames: 8, maxFrameBytes: 1 << 20, maxMessageBytes: 2 << 20 };

function message(frames: Uint8Array[]): Buffer {
  return Buffer.concat([encodeFrameTable(frames), ...frames]);
}

function collect(limits = LIMITS, hello = true): { reader: FrameReader; messages: Buffer[][]; ids: string[] } {
  const messages: Buffer[][] = [];
  const ids: string[] = [];
  const reader = new FrameReader(limits, (m) => messages.push(m.map((f) => Buffer.from(f))), hello ? (id) => ids.push(id) : undefined);
  return { reader, messages, ids };
}

describe('protocol/stream framing (tierkv+tcp)', () => {
  const frames = [Buffer.from('prelude!'), Buffer.from([0x80]), Buffer.alloc(0), Buffer.from(patternBytes(3, 70_000))];
  const stream = Buffer.concat([encodeHello('client-é'), message(frames), message([Buffer.from('x')])]);

  it('cuts the same messages out of a stream however the reads split it', () => {
    for (const step of [1, 3, 7, 4096, 65_536, stream.byteLength]) {
      const { reader, messages, ids } = collect();
      for (let at = 0; at < stream.byteLength; at += step) reader.push(stream.subarray(at, at + step));
      expect(ids, `step ${step}`).to.deep.equal(['client-é']);
      expect(messages, `step ${step}`).to.deep.equal([frames, [Buffer.from('x')]]);
    }
  });

  it('reads large frames in place through nextReadBuffer/read (the onread path) with the same result', () => {
    for (const step of [5, 1000, 65_536]) {
      const { reader, messages, ids } = collect();
      let at = 0;
      while (at < stream.byteLength) {
        const target = reader.nextReadBuffer();
        const n = Math.min(step, target.byteLength, stream.byteLength - at);
        stream.copy(target, 0, at, at + n);
        reader.read(n, target);
        at += n;
      }
      expect(ids).to.deep.equal(['client-é']);
      expect(messages, `step ${step}`).to.deep.equal([frames, [Buffer.from('x')]]);
    }
  });

  it('keeps a large frame that arrived whole in a scratch read intact across later reads', () => {
    const big = Buffer.from(patternBytes(9, 20_000));
    const data = Buffer.concat([message([big]), message([Buffer.from(patternBytes(10, 20_000))])]);
    const got: Buffer[][] = [];
    const reader = new FrameReader(LIMITS, (m) => got.push(m));
    const target = reader.nextReadBuffer();
    data.copy(target, 0, 0, message([big]).byteLength);
    reader.read(message([big]).byteLength, target);
    // The next read must not land on the buffer the first frame is a view of.
    let at = message([big]).byteLength;
    while (at < data.byteLength) {
      const t = reader.nextReadBuffer();
      const n = Math.min(t.byteLength, data.byteLength - at);
      data.copy(t, 0, at, at + n);
      reader.read(n, t);
      at += n;
    }
    expect(got).to.have.length(2);
    expect(Buffer.compare(got[0]![0]!, big)).to.equal(0);
  });

  it('refuses a broken hello, a frame count or size beyond the caps, before buffering any payload', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['not a hello', Buffer.from('GET / HTTP/1.1\r\n'), /hello/],
      ['wrong version', Buffer.from([0x54, 0x4b, 0x54, 0x43, 9, 1, 0x41]), /version 9/],
      ['empty id', Buffer.from([0x54, 0x4b, 0x54, 0x43, 1, 0]), /empty client id/],
      ['no frames', Buffer.concat([encodeHello('a'), Buffer.from([0, 0, 0, 0])]), /0 frames/],
      ['too many frames', Buffer.concat([encodeHello('a'), Buffer.from([9, 0, 0, 0])]), /9 frames/],
      ['frame too large', Buffer.concat([encodeHello('a'), encodeFrameTable([{ byteLength: (1 << 20) + 1 } as Uint8Array])]), /frame 0 announced/],
      ['message too large', Buffer.concat([encodeHello('a'), encodeFrameTable([1, 2, 3].map(() => ({ byteLength: 1 << 20 }) as Uint8Array))]), /message announced/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const { reader, messages } = collect();
      expect(() => reader.push(bytes), name).to.throw(StreamFramingError, pattern);
      expect(reader.bufferedBytes, name).to.be.below(64);
      // A broken stream stays broken: later bytes are ignored, never parsed as a message.
      reader.push(message([Buffer.from('late')]));
      expect(messages, name).to.have.length(0);
    }
  });

  it('writes a message as one head (table and small leading frames) plus its large frames as they are', () => {
    const chunk = Buffer.from(patternBytes(4, 100_000));
    const parts = messageBuffers([Buffer.from('prelude!'), Buffer.from([0x81, 0xa1, 0x61, 0x01]), chunk, Buffer.from('tail')]);
    expect(parts).to.have.length(3);
    // The chunk is the caller's buffer itself, not a copy.
    expect(parts[1]).to.equal(chunk);
    expect(Buffer.concat(parts)).to.deep.equal(message([Buffer.from('prelude!'), Buffer.from([0x81, 0xa1, 0x61, 0x01]), chunk, Buffer.from('tail')]));
    expect(messageBuffers([Buffer.from('x')])).to.have.length(1);
  });

  it('copies leading frames only while the head stays within 4 KiB: many small chunks are written as they are', () => {
    const chunks = Array.from({ length: 16 }, (_, i) => Buffer.from(patternBytes(i, 4096)));
    const frames = [Buffer.from('prelude!'), Buffer.from([0x81, 0xa1, 0x61, 0x01]), ...chunks];
    const parts = messageBuffers(frames);
    expect(parts).to.have.length(17);
    expect(parts[0]!.byteLength).to.be.at.most(4096);
    for (let i = 0; i < 16; i++) expect(parts[1 + i]).to.equal(chunks[i]);
    expect(Buffer.concat(parts)).to.deep.equal(message(frames));
    // A header too large for the head is written on its own, after the table and the prelude.
    const big = Buffer.alloc(5000, 7);
    const split = messageBuffers([Buffer.from('prelude!'), big]);
    expect(split).to.have.length(2);
    expect(split[1]).to.equal(big);
    expect(Buffer.concat(split)).to.deep.equal(message([Buffer.from('prelude!'), big]));
  });

  it('reuses the buffer of a released message for a later one, never the buffer of a message not released', () => {
    const big = (seed: number, n: number) => Buffer.from(patternBytes(seed, n));
    const got: { frames: Buffer[]; release: (() => void) | undefined }[] = [];
    const reader = new FrameReader(LIMITS, (frames, release) => got.push({ frames, release }));
    const feed = (bytes: Buffer) => {
      let at = 0;
      while (at < bytes.byteLength) {
        const t = reader.nextReadBuffer();
        const n = Math.min(t.byteLength, bytes.byteLength - at, 50_000);
        bytes.copy(t, 0, at, at + n);
        reader.read(n, t);
        at += n;
      }
    };
    const sent = [big(1, 300_000), big(2, 300_000), big(3, 200_000), big(4, 400_000)];
    // Two messages in flight: each has its own buffer.
    feed(message([sent[0]!]));
    feed(message([sent[1]!]));
    expect(got[0]!.release).to.be.a('function');
    expect(got[0]!.frames[0]!.buffer).to.not.equal(got[1]!.frames[0]!.buffer);
    // Released (twice: the second call does nothing), the first buffer carries the next message that fits.
    const firstBuffer = got[0]!.frames[0]!.buffer;
    expect(Buffer.compare(got[0]!.frames[0]!, sent[0]!)).to.equal(0);
    got[0]!.release!();
    got[0]!.release!();
    feed(message([sent[2]!]));
    expect(got[2]!.frames[0]!.buffer).to.equal(firstBuffer);
    expect(Buffer.compare(got[2]!.frames[0]!, sent[2]!)).to.equal(0);
    // The second message, still held, was not touched by the third.
    expect(Buffer.compare(got[1]!.frames[0]!, sent[1]!)).to.equal(0);
    // A message larger than the spare gets a new buffer.
    got[1]!.release!();
    feed(message([sent[3]!]));
    expect(got[3]!.frames[0]!.buffer).to.not.equal(got[1]!.frames[0]!.buffer);
    expect(Buffer.compare(got[3]!.frames[0]!, sent[3]!)).to.equal(0);
    // A message that arrived whole in one read has no buffer of the reader's to give back.
    const small = new FrameReader(LIMITS, (frames, release) => got.push({ frames, release }));
    small.push(message([Buffer.from('tiny')]));
    expect(got[4]!.release).to.equal(undefined);
  });

  it('reads the frames after the header into the buffers a destination gives, however the reads split', () => {
    const head = [Buffer.from('prelude!'), Buffer.from('header')];
    const chunks = [Buffer.from(patternBytes(21, 100_000)), Buffer.from(patternBytes(22, 100_000))];
    const data = Buffer.concat([message([...head, ...chunks]), message([Buffer.from('next')])]);
    for (const step of [3, 7, 1000, 65_536, 1 << 20]) {
      for (const [onread, give] of [[true, true], [false, true], [true, false], [false, false]] as const) {
        const targets = [new Uint8Array(100_000), new Uint8Array(100_000)];
        const asked: number[][] = [];
        const got: Buffer[][] = [];
        const reader = new FrameReader(LIMITS, (m) => got.push(m), undefined, (h, lengths) => {
          expect(h.map((f) => Buffer.from(f).toString())).to.deep.equal(['prelude!', 'header']);
          asked.push([...lengths]);
          return give && lengths.length === 4 ? targets : undefined;
        });
        let at = 0;
        while (at < data.byteLength) {
          if (onread) {
            const t = reader.nextReadBuffer();
            const n = Math.min(step, t.byteLength, data.byteLength - at);
            data.copy(t, 0, at, at + n);
            reader.read(n, t);
            at += n;
          } else {
            reader.push(data.subarray(at, at + step));
            at += step;
          }
        }
        const what = `step ${step}, ${onread ? 'onread' : 'push'}, ${give ? 'given' : 'refused'}`;
        expect(asked, what).to.deep.equal([[8, 6, 100_000, 100_000]]);
        expect(got, what).to.have.length(2);
        for (let i = 0; i < 2; i++) {
          expect(Buffer.compare(got[0]![2 + i]!, chunks[i]!), what).to.equal(0);
          // Given: the chunk frames are the destination's memory. Refused: the reader's, the destination untouched.
          if (give) expect(got[0]![2 + i]!.buffer, what).to.equal(targets[i]!.buffer);
          else expect(targets[i]!.every((b) => b === 0), what).to.equal(true);
        }
        expect(got[1]!.map((f) => f.toString()), what).to.deep.equal(['next']);
      }
    }
  });

  it('ignores a destination whose buffers do not match the announced frames, or that throws', () => {
    const chunk = Buffer.from(patternBytes(23, 30_000));
    for (const wrong of [[new Uint8Array(29_999)], [new Uint8Array(30_000), new Uint8Array(30_000)], []]) {
      const got: Buffer[][] = [];
      const reader = new FrameReader(LIMITS, (m) => got.push(m), undefined, () => wrong);
      reader.push(message([Buffer.from('p'), Buffer.from('h'), chunk]));
      expect(Buffer.compare(got[0]![2]!, chunk)).to.equal(0);
      for (const w of wrong) expect(w.every((b) => b === 0)).to.equal(true);
    }
    // A destination that throws (it runs inside node:net's read path) means none.
    const got: Buffer[][] = [];
    const reader = new FrameReader(LIMITS, (m) => got.push(m), undefined, () => {
      throw new Error('boom');
    });
    reader.push(message([Buffer.from('p'), Buffer.from('h'), chunk]));
    expect(Buffer.compare(got[0]![2]!, chunk)).to.equal(0);
  });

  it('encodes a hello of 1-255 bytes only', () => {
    expect(() => encodeHello('')).to.throw(RangeError);
    expect(() => encodeHello('x'.repeat(256))).to.throw(RangeError);
    expect(encodeHello('ab')).to.deep.equal(Buffer.from([0x54, 0x4b, 0x54, 0x43, 1, 2, 0x61, 0x62]));
  });
});
