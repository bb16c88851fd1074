import { expect } from 'chai';
import { waitFor } from '@tierkv/test-utils';
import { createServer, connect, type Socket } from 'node:net';
import { TurnWriter } from '../../src/protocol/turn-writer.js';
import { FrameReader } from '../../src/protocol/stream-framing.js';

/** A socket stand-in that records what each uncork (or the end of the turn) hands to the kernel. */
function recordingSocket(): { socket: Socket; flushes: number[] } {
  const flushes: number[] = [];
  let corked = 0;
  let held = 0;
  const fake = {
    cork: () => void corked++,
    uncork: () => {
      if (corked > 0 && --corked === 0 && held > 0) {
        flushes.push(held);
        held = 0;
      }
    },
    write: (_b: Uint8Array, done?: () => void) => {
      held++;
      if (done) queueMicrotask(done);
      return true;
    },
  };
  return { socket: fake as unknown as Socket, flushes };
}

describe('protocol/TurnWriter', () => {
  it('lets the first messages of a turn leave early, then doubles the batch: log2(n) writes, not n and not 1', async () => {
    const { socket, flushes } = recordingSocket();
    const writer = new TurnWriter(socket, true);
    let done = 0;
    // One small frame per message: messageBuffers makes it one buffer, so buffers count messages.
    for (let i = 0; i < 32; i++) writer.write([Buffer.from([i])], () => void done++);
    await new Promise((r) => setImmediate(r));
    expect(flushes).to.deep.equal([4, 8, 16, 4]);
    expect(done).to.equal(32);
    // A new turn starts again at 4.
    for (let i = 0; i < 6; i++) writer.write([Buffer.from([i])], () => void done++);
    await new Promise((r) => setImmediate(r));
    expect(flushes.slice(4)).to.deep.equal([4, 2]);
  });

  it('writes a whole turn at once without splitTurns', async () => {
    const { socket, flushes } = recordingSocket();
    const writer = new TurnWriter(socket);
    for (let i = 0; i < 32; i++) writer.write([Buffer.from([i])], () => undefined);
    await new Promise((r) => setImmediate(r));
    expect(flushes).to.deep.equal([32]);
  });

  it('delivers every message of a turn intact and in order over a real socket', async () => {
    const got: Buffer[][] = [];
    const server = createServer((s) => {
      const reader = new FrameReader({ maxFrames: 4, maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 20 }, (m) => got.push(m.map((f) => Buffer.from(f))));
      s.on('data', (d: Buffer) => reader.push(d));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = connect((server.address() as { port: number }).port, '127.0.0.1');
    try {
      await new Promise((r) => socket.once('connect', r));
      const writer = new TurnWriter(socket, true);
      const sent = Array.from({ length: 50 }, (_, i) => [Buffer.from(`header ${i}`), Buffer.alloc(1000 * (i % 7), i)]);
      for (const m of sent) writer.write(m, () => undefined);
      await waitFor(() => got.length === sent.length, 'every message arrived');
      expect(got).to.deep.equal(sent);
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
