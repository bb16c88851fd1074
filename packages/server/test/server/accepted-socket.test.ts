import { expect } from 'chai';
import { connect, createServer, type Socket } from 'node:net';
import { waitFor } from '@tierkv/test-utils';
import { adoptWithOnread } from '../../src/server/accepted-socket.js';

describe('server/adoptWithOnread (onread on an accepted socket)', () => {
  it("takes over a paused accepted socket on this Node: reads land in the given buffers, the server's close still completes", async () => {
    const buffers = [Buffer.alloc(100_000), Buffer.alloc(100_000)];
    let next = 0;
    const reads: Buffer[] = [];
    let adopted: Socket | undefined;
    const server = createServer({ pauseOnConnect: true }, (accepted) => {
      adopted = adoptWithOnread(accepted, {
        buffer: () => buffers[next++ % 2]!,
        callback: (n, buf) => {
          // The bytes are in one of our buffers.
          expect(buffers).to.include(buf);
          reads.push(Buffer.from(buf.subarray(0, n)));
          return true;
        },
      });
      adopted?.on('end', () => adopted!.end('bye'));
      adopted?.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sent = Buffer.alloc(1_000_000);
    for (let i = 0; i < sent.byteLength; i++) sent[i] = (i * 7) & 0xff;
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    let answer = '';
    client.on('data', (d: Buffer) => (answer += d.toString()));
    client.end(sent);
    await waitFor(() => answer === 'bye', 'the adopted socket answered');
    expect(adopted, 'this Node keeps the accepted handle where adoptWithOnread looks').to.not.equal(undefined);
    expect(Buffer.compare(Buffer.concat(reads), sent)).to.equal(0);
    // The server counted the connection once and let it go with the adopted socket.
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  });

  it('leaves a socket without a handle as it is', () => {
    const socket = { _handle: null } as unknown as Socket;
    expect(adoptWithOnread(socket, { buffer: () => Buffer.alloc(1), callback: () => true })).to.equal(undefined);
  });
});
