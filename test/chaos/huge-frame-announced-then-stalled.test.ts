// Attack: raw TCP peers complete the ZMTP handshake, announce one enormous frame, send a little of
// it and stall. libzmq must refuse the frame (maxMessageSize) and drop the connection, the drop must
// be counted, and the process's memory must stay flat; the sockets keep serving real peers.
import { expect } from 'chai';
import { Dealer } from 'zeromq';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { TierkvClient, TierkvServer } from '@tierkv/server';
import { CacheController, decodeReply, encodeMessage } from '@tierkv/controller';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { memoryMiB, stalledPeer, type StalledPeer } from './zmtp.js';

const PEERS = 4;
const HUGE = 8n * 2n ** 30n;
/** Generous: a loaded CI machine's heap moves by tens of MiB on its own. */
const MARGIN_MIB = 96;

describe('chaos: peers announce a huge frame and stall', function () {
  this.timeout(20_000);
  const peers: StalledPeer[] = [];
  afterEach(() => {
    for (const p of peers.splice(0)) p.socket.destroy();
  });

  it('the storage server drops and counts them; memory stays flat; clients keep working', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const storage = new StorageManager({ l1: { capacityBytes: 8 * 2 ** 20 } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null, maxPayloadBytes: 2 ** 20, maxKeysPerRequest: 64, meterProvider });
    await server.start();
    const layout = MemoryLayout.bytes(4096);
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 10_000 });
    const key = objectKey('00000000000000a1', 'chaos-model');
    const data = new Uint8Array(layout.byteSize).fill(7);
    try {
      // Warm up first (L1 allocates on first use), so the figures show what the attack costs.
      await client.store([key], [data]);
      const before = memoryMiB();
      for (let i = 0; i < PEERS; i++) peers.push(stalledPeer(server.endpoint, 'DEALER', HUGE));
      // A frame just over the limit is refused too, not only absurd ones.
      peers.push(stalledPeer(server.endpoint, 'DEALER', BigInt(2 ** 20 + 64 * 7000 + 65536 * 2)));
      await Promise.all(peers.map((p) => p.closed));
      const closed = await waitFor(async () => {
        const v = valueOf(await collect(), 'tierkv.server.connections.closed', { 'tierkv.close.reason': 'disconnect' }) ?? 0;
        return v >= peers.length ? v : 0;
      }, 'the dropped connections counted', 15_000);
      let failed = 0;
      let wrong = 0;
      for (let i = 0; i < 20; i++) {
        try {
          const got = await client.retrieve([key]);
          if (!Buffer.from(got.chunks[0]!).equals(Buffer.from(data))) wrong++;
        } catch {
          failed++;
        }
      }
      const after = memoryMiB();
      console.log(`      [server huge frame] peers ${peers.length} announcing up to ${HUGE} B; dropped ${peers.filter((p) => p.isClosed()).length}, counted ${closed}; rss ${before.rss}→${after.rss} MiB, arrayBuffers ${before.arrayBuffers}→${after.arrayBuffers} MiB; ops failed ${failed}, wrong bytes ${wrong}`);
      expect(failed).to.equal(0);
      expect(wrong).to.equal(0);
      expect(after.rss - before.rss).to.be.below(MARGIN_MIB);
      expect(after.arrayBuffers - before.arrayBuffers).to.be.below(MARGIN_MIB);
    } finally {
      client.close();
      await server.shutdown();
      await shutdown();
    }
  });

  for (const target of ['pull', 'router'] as const) {
    it(`the cache controller's ${target.toUpperCase()} socket drops and counts them; memory stays flat; requests keep working`, async () => {
      const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false });
      const addr = await controller.start();
      const dealer = new Dealer({ linger: 0, receiveTimeout: 10_000 });
      try {
        const before = memoryMiB();
        const endpoint = target === 'pull' ? addr.pull : addr.router;
        const socketType = target === 'pull' ? 'PUSH' : 'DEALER';
        for (let i = 0; i < PEERS; i++) peers.push(stalledPeer(endpoint, socketType, HUGE));
        peers.push(stalledPeer(endpoint, socketType, BigInt(controller.options.maxMessageBytes + 1)));
        await Promise.all(peers.map((p) => p.closed));
        await waitFor(() => controller.stats.connectionsClosed[target].disconnect >= peers.length, 'the dropped connections counted', 15_000);
        dealer.connect(addr.router);
        let failed = 0;
        for (let i = 0; i < 10; i++) {
          await dealer.send([Buffer.alloc(0), encodeMessage({ t: 'query_workers' })]);
          const frames = await dealer.receive();
          const r = decodeReply(frames[frames.length - 1]!);
          if (!r.ok || r.msg.t !== 'workers_ok') failed++;
        }
        const after = memoryMiB();
        console.log(`      [controller ${target} huge frame] peers ${peers.length}; dropped ${peers.filter((p) => p.isClosed()).length}, counted ${controller.stats.connectionsClosed[target].disconnect}; rss ${before.rss}→${after.rss} MiB, arrayBuffers ${before.arrayBuffers}→${after.arrayBuffers} MiB; requests failed ${failed}`);
        expect(failed).to.equal(0);
        expect(after.rss - before.rss).to.be.below(MARGIN_MIB);
        expect(after.arrayBuffers - before.arrayBuffers).to.be.below(MARGIN_MIB);
      } finally {
        dealer.close();
        await controller.close();
      }
    });
  }
});

describe('chaos: peers announce a huge message over plain TCP (tierkv+tcp) and stall', function () {
  this.timeout(20_000);

  it('the storage server closes and counts those over the caps before buffering, bounds the stalled ones by the caps, and keeps serving', async () => {
    const { connect } = await import('node:net');
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const storage = new StorageManager({ l1: { capacityBytes: 8 * 2 ** 20 } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null, transport: 'tcp', maxPayloadBytes: 2 ** 20, maxKeysPerRequest: 64, meterProvider });
    await server.start();
    const layout = MemoryLayout.bytes(4096);
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 10_000 });
    const key = objectKey('00000000000000a2', 'chaos-model');
    const data = new Uint8Array(layout.byteSize).fill(9);
    const port = Number(server.endpoint.split(':').pop());
    const sockets: import('node:net').Socket[] = [];
    // Hello, then a message table announcing `frames` frames of `size` bytes, then 100 bytes of it.
    const attack = (frames: number, size: number) => {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      const table = Buffer.alloc(4 + 4 * frames);
      table.writeUInt32LE(frames, 0);
      for (let i = 0; i < frames; i++) table.writeUInt32LE(size, 4 + 4 * i);
      // A client id of its own: a second hello with the same id would take the first one's connection over.
      s.write(Buffer.concat([Buffer.from([0x54, 0x4b, 0x54, 0x43, 1, 1, 0x61 + sockets.length]), table, Buffer.alloc(100)]));
      sockets.push(s);
      return new Promise<boolean>((resolve) => {
        s.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 2_000).unref();
      });
    };
    try {
      await client.store([key], [data]);
      const before = memoryMiB();
      // Over the caps: 4 GiB frames, and 66 frames of 1 MiB (a total just over the cap).
      const refused = await Promise.all([...Array.from({ length: PEERS }, () => attack(2, 0xffff_ffff)), attack(66, 2 ** 20)]);
      expect(refused.every(Boolean), 'every peer over the caps disconnected').to.equal(true);
      // Inside the caps (768 KiB), then stalled: held, at most the cap each.
      const held = await Promise.all(Array.from({ length: PEERS }, () => attack(3, 2 ** 18)));
      expect(held.some(Boolean), 'legal messages are not refused').to.equal(false);
      const m = await collect();
      expect(valueOf(m, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'malformed' })).to.equal(PEERS + 1);
      for (let i = 0; i < 20; i++) expect(Buffer.from((await client.retrieve([key])).chunks[0]!).equals(Buffer.from(data))).to.equal(true);
      const after = memoryMiB();
      console.log(`      [server tcp huge message] refused ${refused.length}, stalled ${held.length}; rss ${before.rss}→${after.rss} MiB, arrayBuffers ${before.arrayBuffers}→${after.arrayBuffers} MiB`);
      expect(after.rss - before.rss).to.be.below(MARGIN_MIB);
      expect(after.arrayBuffers - before.arrayBuffers).to.be.below(MARGIN_MIB);
    } finally {
      for (const s of sockets) s.destroy();
      client.close();
      await server.shutdown();
      await shutdown();
    }
  });
});
