import { expect } from 'chai';
import { encodeKey, MemoryLayout } from '@tierkv/core';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { decodeHeader, encodeRequest } from '../../src/protocol/codec.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { rawPeer, TRANSPORTS, type RawPeer } from '../helpers/raw-peer.js';
import { ServerFixture } from '../helpers/server-fixture.js';

const KiB = 1024;
const MiB = 1024 * KiB;

for (const transport of TRANSPORTS)
describe(`server reply budgets (${transport})`, function () {
  this.timeout(30_000);

  it('sheds the client holding the most once all clients pass maxReplyBytes; the other gets every reply', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const budget = 4 * MiB;
    const big = MemoryLayout.bytes(256 * KiB);
    const fx = await new ServerFixture(transport).start({ sendHighWaterMark: 4, maxInFlightPerClient: 256, maxPayloadBytes: MiB, maxReplyBytesPerClient: budget, maxReplyBytes: budget }, meterProvider);
    const server = fx.server;
    await fx.client({ layout: big }).store([testKey(1)], [patternBytes(1, big.byteSize)]);
    const [a, b] = [rawPeer(server.endpoint, { slow: true }), rawPeer(server.endpoint, { slow: true })];
    try {
      a.pause();
      b.pause();
      let answered = server.status().requests.total;
      // One request at a time, each answered before the next: what waits in the server grows by one reply per step.
      const ask = async (p: RawPeer, i: number): Promise<void> => {
        await p.send(encodeRequest(i, { type: 'retrieve', keys: [encodeKey(testKey(1))], layout: big.toString() }));
        answered++;
        await waitFor(() => server.status().requests.total >= answered, `request ${i} answered`);
      };
      const shedFor = async (reason: string): Promise<number> => valueOf(await collect(), 'tierkv.server.clients.shed', { 'tierkv.shed.reason': reason }) ?? 0;

      // a alone fills 5/8 of the budget past what the kernel (and libzmq's pipe) took: under its own limit.
      let asked = 0;
      while (server.replyBytes.queued < (budget * 5) / 8 && asked < 400) await ask(a, asked++);
      expect(server.replyBytes.queued).to.be.at.least((budget * 5) / 8);
      // b's replies then carry the total past maxReplyBytes while b holds less than a: a goes.
      let bAsked = 0;
      while ((await shedFor('total_budget')) === 0 && bAsked < 400) await ask(b, bAsked++);
      expect(await shedFor('total_budget')).to.equal(1);
      expect(await shedFor('client_budget')).to.equal(0);
      expect(valueOf(await collect(), 'tierkv.server.replies.dropped', { 'tierkv.drop.reason': 'peer_slow' })).to.be.at.least(1);
      // What the budgets let stand: at most one reply past them.
      expect(server.replyBytes.peak).to.be.at.most(budget + big.byteSize + 4 * KiB);

      b.resume();
      for (let i = 0; i < bAsked; i++) {
        const [, header, chunk] = await b.receive(10_000);
        expect(decodeHeader(header!).ok).to.equal(true);
        expect(Buffer.compare(chunk!, patternBytes(1, big.byteSize))).to.equal(0);
      }
      await waitFor(() => fx.storage.locksHeld() === 0 && server.replyBytes.queued === 0, 'every lock and reply byte let go');
    } finally {
      a.close();
      b.close();
      await fx.close();
      await shutdown();
    }
  });
});
