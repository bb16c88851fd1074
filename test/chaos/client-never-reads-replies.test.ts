// Attack: a raw DEALER sends retrieve and store requests as fast as it can and never reads a reply.
// The server must keep the reply bytes it holds under its configured budgets, shed that client
// (dropping its session and locks, counted), and serve a well-behaved client meanwhile, byte-exact.
import { expect } from 'chai';
import { Dealer } from 'zeromq';
import { encodeKey, MemoryLayout, objectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { TierkvClient, TierkvServer } from '@tierkv/server';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { request } from '../server/wire.js';
import { memoryMiB } from './zmtp.js';

const MiB = 2 ** 20;
const CHUNK = 256 * 1024;

describe('chaos: a client that never reads its replies', function () {
  this.timeout(20_000);

  it('is shed with the server holding no more than its reply budgets; another client sees nothing', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const storage = new StorageManager({ l1: { capacityBytes: 16 * MiB } });
    const budgets = { maxPayloadBytes: MiB, maxReplyBytesPerClient: 4 * MiB, maxReplyBytes: 6 * MiB, sendHighWaterMark: 4 };
    const server = new TierkvServer({ storage, port: 0, httpPort: null, maxInFlightPerClient: 256, ...budgets, meterProvider });
    await server.start();
    const layout = MemoryLayout.bytes(CHUNK);
    const good = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 10_000 });
    const keys = [1, 2, 3].map((i) => objectKey(i.toString(16).padStart(16, '0'), 'chaos-model'));
    const data = keys.map((_, i) => new Uint8Array(CHUNK).fill(i + 1));
    // Receives nothing: a one-message queue and a 16 KiB kernel buffer fill at once.
    const hostile = new Dealer({ linger: 0, receiveHighWaterMark: 1, receiveBufferSize: 16 * 1024, sendHighWaterMark: 10_000 });
    let maxQueued = 0;
    const sample = async () => {
      const rm = await collect();
      maxQueued = Math.max(maxQueued, valueOf(rm, 'tierkv.server.replies.queued') ?? 0);
      return rm;
    };
    try {
      await good.store(keys, data);
      const before = memoryMiB();
      hostile.connect(server.endpoint);
      const wireKeys = keys.map(encodeKey);
      let sent = 0;
      const attack = (async () => {
        for (let i = 0; i < 400 && !hostile.closed; i++) {
          const header =
            i % 4 === 3
              ? { type: 'store', keys: [encodeKey(objectKey((0x1000 + i).toString(16).padStart(16, '0'), 'chaos-model'))], layout: layout.toString() }
              : { type: 'retrieve', keys: wireKeys, layout: layout.toString() };
          await hostile.send(request(i, header, i % 4 === 3 ? [new Uint8Array(CHUNK)] : []));
          sent++;
        }
      })();
      let failed = 0;
      let wrong = 0;
      let ops = 0;
      // The well-behaved client works through the whole attack, and until the shed is counted.
      const shed = async () => valueOf(await sample(), 'tierkv.server.clients.shed', { 'tierkv.shed.reason': 'client_budget' }) ?? 0;
      while (ops < 30 || (await shed()) === 0) {
        ops++;
        try {
          const got = await good.retrieve(keys);
          got.chunks.forEach((c, i) => (Buffer.from(c).equals(Buffer.from(data[i]!)) ? undefined : wrong++));
          if (got.chunks.length !== keys.length) wrong++;
        } catch {
          failed++;
        }
        await sample();
        if (ops > 2_000) break;
      }
      await attack;
      await waitFor(async () => (await shed()) > 0, 'the hostile client shed', 15_000);
      await waitFor(() => server.status().locks.held === 0, 'its locks released', 15_000);
      const rm = await sample();
      maxQueued = Math.max(maxQueued, server.replyBytes.peak);
      const after = memoryMiB();
      const dropped = valueOf(rm, 'tierkv.server.replies.dropped', { 'tierkv.drop.reason': 'peer_slow' }) ?? 0;
      console.log(
        `      [never reads] requests sent ${sent}; shed ${await shed()}, replies dropped ${dropped}; max reply bytes held ${(maxQueued / MiB).toFixed(2)} MiB (budget ${budgets.maxReplyBytes / MiB} MiB total, ${budgets.maxReplyBytesPerClient / MiB} MiB per client, + libzmq ≤ ${budgets.sendHighWaterMark + 1} replies); rss ${before.rss}→${after.rss} MiB, arrayBuffers ${before.arrayBuffers}→${after.arrayBuffers} MiB; good client ops ${ops}, failed ${failed}, wrong bytes ${wrong}`,
      );
      // One hostile client: its own budget is the bound that applies.
      expect(maxQueued).to.be.at.most(budgets.maxReplyBytesPerClient);
      expect(dropped).to.be.greaterThan(0);
      expect(failed).to.equal(0);
      expect(wrong).to.equal(0);
      expect(after.rss - before.rss).to.be.below(256);
    } finally {
      hostile.close();
      good.close();
      await server.shutdown();
      await shutdown();
    }
  });
});
