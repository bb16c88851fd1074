import { expect } from 'chai';
import { createServer, type Socket } from 'node:net';
import { InvalidArgumentError, MemoryLayout, TimeoutError } from '@tierkv/core';
import { waitFor } from '@tierkv/test-utils';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { decodeHeader, decodePrelude, encodeReply } from '../../src/protocol/codec.js';
import { messageBuffers } from '../../src/protocol/stream-envelope.js';
import { FrameReader } from '../../src/protocol/stream-framing.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { ServerFixture } from '../helpers/server-fixture.js';

const CHUNK = 256 * 1024;
const layout = MemoryLayout.bytes(CHUNK);

describe('client/TierkvClient retrieve into the caller\'s buffers', function () {
  this.timeout(30_000);
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  for (const transport of ['tcp', 'zeromq'] as const) {
    it(`returns the given buffers holding the stored bytes, round after round (${transport})`, async () => {
      const fx = await new ServerFixture(transport).start({ maxPayloadBytes: 64 * CHUNK });
      closers.push(() => fx.close());
      const client = fx.client({ layout });
      const keys = Array.from({ length: 6 }, (_, i) => testKey(i));
      const into = keys.map(() => new Uint8Array(CHUNK));
      for (let round = 0; round < 3; round++) {
        const bytes = keys.map((_, i) => patternBytes(100 * round + i, CHUNK));
        // Only the first four are stored: the ready prefix is four chunks.
        expect((await client.store(keys.slice(0, 4), bytes.slice(0, 4), { mode: 'all' })).storedCount).to.equal(4);
        const got = await client.retrieve(keys, { into });
        expect(got.chunks).to.have.length(4);
        for (let i = 0; i < 4; i++) {
          expect(got.chunks[i], `chunk ${i} is into[${i}]`).to.equal(into[i]);
          expect(Buffer.compare(into[i]!, bytes[i]!), `round ${round} chunk ${i}`).to.equal(0);
        }
        // Views into one larger buffer work too.
        const slab = new Uint8Array(4 * CHUNK);
        const views = [0, 1, 2, 3].map((i) => slab.subarray(i * CHUNK, (i + 1) * CHUNK));
        const again = await client.retrieve(keys.slice(0, 4), { into: views });
        for (let i = 0; i < 4; i++) expect(Buffer.compare(views[i]!, bytes[i]!)).to.equal(0);
        expect(again.chunks[3]).to.equal(views[3]);
      }
    });
  }

  it('refuses into buffers of the wrong size or number, shared memory, or no array, naming the buffer', async () => {
    const fx = await new ServerFixture('tcp').start();
    closers.push(() => fx.close());
    const client = fx.client({ layout });
    const keys = [testKey(1), testKey(2)];
    const ok = () => new Uint8Array(CHUNK);
    const slab = new Uint8Array(CHUNK + 10);
    const cases: [unknown, RegExp][] = [
      [[ok(), new Uint8Array(CHUNK - 1)], /options\.into\[1\].*262143 bytes.*262144/],
      [[ok()], /1 buffers for 2 keys/],
      [[slab.subarray(0, CHUNK), slab.subarray(10, CHUNK + 10)], /options\.into\[1\].*shares memory with options\.into\[0\]/],
      [[ok(), 'x'], /options\.into\[1\].*Uint8Array/],
      ['nope', /options\.into.*non-empty array/],
    ];
    for (const [into, pattern] of cases) {
      const err = await client.retrieve(keys, { into: into as Uint8Array[] }).then(() => undefined, (e: Error) => e);
      expect(err, String(pattern)).to.be.instanceOf(InvalidArgumentError);
      expect(err!.message).to.match(pattern);
    }
  });

  it('writes nothing into the buffers after a retrieve timed out mid-reply: the connection is closed, the next call reconnects', async () => {
    // A server that sends half of a chunk, then (once the client gave up) the rest; it answers pings.
    const connections: Socket[] = [];
    let rest: (() => void) | undefined;
    const server = createServer((socket) => {
      connections.push(socket);
      socket.on('error', () => undefined);
      const reader = new FrameReader(
        { maxFrames: 8, maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 20 },
        (frames) => {
          const id = decodePrelude(frames[0]).id;
          const type = decodeHeader(frames[1])['type'];
          if (type === 'ping') {
            for (const b of messageBuffers(encodeReply(id, { ok: true, version: 'fake', uptimeMs: 1 }))) socket.write(b);
            return;
          }
          const [head, chunk] = messageBuffers(encodeReply(id, { ok: true, count: 1 }, [Buffer.alloc(CHUNK, 0xee)]));
          socket.write(head!);
          socket.write(chunk!.subarray(0, CHUNK / 2));
          rest = () => {
            if (!socket.destroyed) socket.write(chunk!.subarray(CHUNK / 2));
          };
        },
        () => undefined,
      );
      socket.on('data', (d: Buffer) => reader.push(d));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    closers.push(() => connections.forEach((c) => c.destroy()));
    const port = (server.address() as { port: number }).port;
    const client = new TierkvClient({ endpoint: `tierkv+tcp://127.0.0.1:${port}`, layout, timeoutMs: 30_000 });
    closers.push(() => client.close());

    const into = [new Uint8Array(CHUNK)];
    const retrieving = client.retrieve([testKey(1)], { into, timeoutMs: 300 }).then(() => undefined, (e: Error) => e);
    await waitFor(() => rest !== undefined, 'the server sent half of the reply');
    const err = await retrieving;
    expect(err).to.be.instanceOf(TimeoutError);
    const after = Buffer.from(into[0]!);
    // Whatever the server sends now must not reach the buffers; a ping gets through (on a new connection).
    rest!();
    expect((await client.ping()).version).to.equal('fake');
    expect(connections).to.have.length(2);
    expect(Buffer.compare(into[0]!, after), 'into unchanged after the call settled').to.equal(0);
  });
});
