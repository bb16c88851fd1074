import { expect } from 'chai';
import { ConfigError, encodeKey, MemoryLayout, UnavailableError } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { decodeHeader, encodeRequest } from '../../src/protocol/codec.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { rawPeer } from '../helpers/raw-peer.js';
import { LAYOUT, ServerFixture } from '../helpers/server-fixture.js';

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32LE(v, 4 * i));
  return b;
};

describe('server/TierkvServer over plain TCP (tierkv+tcp://)', function () {
  this.timeout(30_000);
  let fx: ServerFixture | undefined;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await fx?.close();
    fx = undefined;
  });

  it('names its endpoint tierkv+tcp://, and refuses an authToken (no CURVE over plain TCP) on server and client', async () => {
    fx = await new ServerFixture('tcp').start();
    expect(fx.server.endpoint).to.match(/^tierkv\+tcp:\/\/127\.0\.0\.1:\d+$/);
    const storage = fx.storage.asStorageManager();
    expect(() => new TierkvServer({ storage, transport: 'tcp', authToken: 'a-long-enough-shared-secret-0123456789' })).to.throw(ConfigError, /server\.authToken.*'tcp' transport/);
    expect(() => new TierkvServer({ storage, transport: 'udp' as 'tcp' })).to.throw(ConfigError, /server\.transport/);
    expect(() => new TierkvClient({ endpoint: fx!.server.endpoint, authToken: 'a-long-enough-shared-secret-0123456789' })).to.throw(ConfigError, /client\.authToken/);
    expect(() => new TierkvClient({ endpoint: 'tierkv+tcp://127.0.0.1' })).to.throw(ConfigError, /client\.endpoint/);
    expect(() => new TierkvClient({ endpoint: 'tierkv+tcp://127.0.0.1:5555', maxReplyBytes: 0 })).to.throw(ConfigError, /client\.maxReplyBytes/);
  });

  it('closes a connection whose hello or framing is broken, counts it, and keeps serving the others', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    cleanup.push(shutdown);
    fx = await new ServerFixture('tcp').start({ maxPayloadBytes: 64 * 1024, maxKeysPerRequest: 16 }, meterProvider);
    const c = fx.client();
    await c.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);

    const closes = async (write: (p: ReturnType<typeof rawPeer>) => void, noHello = false): Promise<void> => {
      const p = rawPeer(fx!.server.endpoint, { noHello });
      cleanup.push(() => p.close());
      write(p);
      // Closed by the server: receive fails at once instead of timing out.
      const err = await p.receive(10_000).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/closed the connection/);
    };
    // A ZeroMQ greeting (or anything else) instead of the hello.
    await closes((p) => p.writeRaw(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f])), true);
    // A hello naming an empty id.
    await closes((p) => p.writeRaw(Buffer.from([0x54, 0x4b, 0x54, 0x43, 1, 0])), true);
    // Zero frames; more frames than a request can have; one frame beyond the cap; a total beyond the cap.
    await closes((p) => p.writeRaw(u32(0)));
    await closes((p) => p.writeRaw(u32(1000)));
    await closes((p) => p.writeRaw(u32(1, 0x7fff_ffff)));
    await closes((p) => p.writeRaw(u32(20, ...Array.from({ length: 20 }, () => 60 * 1024))));

    // Inside the caps, a bad message is answered (MALFORMED) on the connection, which stays usable.
    const p = rawPeer(fx.server.endpoint);
    cleanup.push(() => p.close());
    await p.send([Buffer.from('not a prelude')]);
    expect(decodeHeader((await p.receive())[1])).to.include({ ok: false, code: 'MALFORMED' });
    await p.send(encodeRequest(5, { type: 'ping' }));
    expect(decodeHeader((await p.receive())[1])).to.include({ ok: true });

    expect((await c.retrieve([testKey(1)])).chunks[0]).to.deep.equal(Buffer.from(patternBytes(1, LAYOUT.byteSize)));
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'malformed' })).to.equal(7);
    expect(valueOf(rm, 'tierkv.server.connections.closed', { 'tierkv.close.reason': 'handshake_failed' })).to.equal(2);
    await waitFor(async () => valueOf(await collect(), 'tierkv.server.connections.closed', { 'tierkv.close.reason': 'disconnect' }) === 4, 'the four framing errors counted as disconnects');
  });

  it('closes a connection that sends no hello within requestTimeoutMs', async () => {
    fx = await new ServerFixture('tcp').start({ requestTimeoutMs: 200 });
    const p = rawPeer(fx.server.endpoint, { noHello: true });
    cleanup.push(() => p.close());
    const err = await p.receive(20_000).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/closed the connection/);
  });

  it('releases the locks of a client the moment its connection closes, without waiting for the lease', async () => {
    fx = await new ServerFixture('tcp').start({ lockLeaseMs: 60_000 });
    const keys = [testKey(1), testKey(2)];
    const owner = fx.client();
    await owner.store(keys, keys.map((_, i) => patternBytes(i, LAYOUT.byteSize)));
    const l = await owner.lookup(keys, { wait: true });
    expect(l.ready).to.equal(2);
    expect(fx.server.status().locks.held).to.equal(2);
    owner.close();
    // The fake clock never moves: only the closed connection can have released them.
    await waitFor(() => fx!.server.status().locks.held === 0 && fx!.storage.locksHeld() === 0, 'locks released on disconnect');
    await waitFor(() => fx!.server.status().clients.sessions === 0, 'session forgotten');
  });

  it('lets a reconnecting client id take its session over, and fails calls on a lost connection at once', async () => {
    fx = await new ServerFixture('tcp').start();
    const a = fx.client({ clientId: 'same-id' });
    await a.ping();
    const b = fx.client({ clientId: 'same-id' });
    await b.ping();
    // a's connection was closed by the takeover: its next call connects anew (and takes over again).
    await waitFor(async () => (await a.ping().then(() => true, (e: unknown) => e instanceof UnavailableError)) === true, 'a connects anew after the takeover');
    expect(fx.server.status().clients.connected).to.equal(1);

    fx.storage.prefetchDelayMs = 5_000;
    const c = fx.client();
    await c.store([testKey(9)], [patternBytes(9, LAYOUT.byteSize)]);
    const pending = c.retrieve([testKey(9)], { timeoutMs: 20_000 }).then(() => undefined, (e: Error) => e);
    await waitFor(() => fx!.server.status().requests.inFlight >= 1, 'retrieve in flight');
    const started = performance.now();
    await fx.server.shutdown(0);
    const err = await pending;
    expect(err).to.be.instanceOf(Error);
    // Failed by the shutdown (an answer or the lost connection), long before the call's 20 s deadline.
    expect(performance.now() - started).to.be.below(15_000);
  });

  it('sheds a client that stops reading once its unsent replies pass maxReplyBytesPerClient, releasing its locks; another client is served', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    cleanup.push(shutdown);
    const big = MemoryLayout.bytes(1024 * 1024);
    fx = await new ServerFixture('tcp').start({ maxInFlightPerClient: 256, maxPayloadBytes: 4 * 1024 * 1024, maxReplyBytesPerClient: 8 * 1024 * 1024 }, meterProvider);
    const fast = fx.client({ layout: big });
    await fast.store([testKey(1)], [patternBytes(1, big.byteSize)]);
    const slow = rawPeer(fx.server.endpoint);
    cleanup.push(() => slow.close());
    slow.pause();
    for (let i = 0; i < 200; i++) await slow.send(encodeRequest(i, { type: 'retrieve', keys: [encodeKey(testKey(1))], layout: big.toString() }));
    await waitFor(async () => (valueOf(await collect(), 'tierkv.server.clients.shed', { 'tierkv.shed.reason': 'client_budget' }) ?? 0) >= 1, 'slow client shed');
    expect(valueOf(await collect(), 'tierkv.server.replies.dropped', { 'tierkv.drop.reason': 'peer_slow' })).to.be.at.least(1);
    // The budget bounds what the server ever held for it: one reply past the budget at most.
    expect(fx.server.replyBytes.peak).to.be.at.most(8 * 1024 * 1024 + 1024 * 1024 + 4096);
    for (let i = 0; i < 5; i++) {
      const got = await fast.retrieve([testKey(1)], { timeoutMs: 5_000 });
      expect(Buffer.compare(got.chunks[0]!, patternBytes(1, big.byteSize))).to.equal(0);
    }
    await waitFor(() => fx!.storage.locksHeld() === 0 && fx!.server.replyBytes.queued === 0, 'every lock and reply byte let go');
  });

  it('sheds a client whose oldest reply waits past requestTimeoutMs (stalled), releasing its locks', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    cleanup.push(shutdown);
    const big = MemoryLayout.bytes(1024 * 1024);
    fx = await new ServerFixture('tcp').start({ requestTimeoutMs: 300, maxInFlightPerClient: 256, maxPayloadBytes: 64 * 1024 * 1024 }, meterProvider);
    const c = fx.client({ layout: big });
    await c.store([testKey(1)], [patternBytes(1, big.byteSize)]);
    const slow = rawPeer(fx.server.endpoint);
    cleanup.push(() => slow.close());
    slow.pause();
    // More than loopback's kernel buffers take: the rest waits in the server, and stalls.
    for (let i = 0; i < 48; i++) await slow.send(encodeRequest(i, { type: 'retrieve', keys: [encodeKey(testKey(1))], layout: big.toString() }));
    await waitFor(() => fx!.server.replyBytes.queued > 0, 'replies waiting');
    // The server's clock (injected) moves past the deadline of the oldest waiting reply.
    fx.now += 1_000;
    await waitFor(async () => (valueOf(await collect(), 'tierkv.server.clients.shed', { 'tierkv.shed.reason': 'stalled' }) ?? 0) >= 1, 'stalled client shed', 20_000);
    await waitFor(() => fx!.storage.locksHeld() === 0 && fx!.server.replyBytes.queued === 0, 'every lock and reply byte let go');
  });
});

describe('server over plain TCP: zero-copy replies and eviction', function () {
  this.timeout(60_000);

  it('stores every byte as sent while many large stores from several clients reuse the receive buffers', async () => {
    // The server recycles each connection's receive buffer once a store was copied into L1: a
    // reuse too early would store another request's bytes. Sizes vary so that buffers are reused
    // for smaller messages and replaced for larger ones.
    const sizes = [256 * 1024, 1024 * 1024, 64 * 1024 + 3];
    const storage = new StorageManager({ l1: { capacityBytes: 256 * 1024 * 1024 } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null, transport: 'tcp', maxPayloadBytes: 8 * 1024 * 1024, maxInFlightPerClient: 64 });
    await server.start();
    const clients = [0, 1, 2].map(() => new TierkvClient({ endpoint: server.endpoint, timeoutMs: 60_000 }));
    try {
      const rounds = 8;
      const written: { key: ReturnType<typeof testKey>; bytes: Uint8Array; layout: MemoryLayout }[] = [];
      await Promise.all(
        clients.map(async (client, c) => {
          for (let r = 0; r < rounds; r++) {
            // Several requests in flight on one connection at once.
            await Promise.all(
              sizes.map(async (size, s) => {
                const layout = MemoryLayout.bytes(size);
                const keys = [0, 1].map((j) => testKey(10_000 * (c + 1) + 100 * r + 10 * s + j));
                const bytes = keys.map((_, j) => patternBytes(10_000 * (c + 1) + 100 * r + 10 * s + j, size));
                const res = await client.store(keys, bytes, { layout, mode: 'all' });
                expect(res.storedCount).to.equal(2);
                keys.forEach((key, j) => written.push({ key, bytes: bytes[j]!, layout }));
              }),
            );
          }
        }),
      );
      expect(written).to.have.length(3 * 8 * 3 * 2);
      for (const w of written) {
        const got = await clients[0]!.retrieve([w.key], { layout: w.layout });
        expect(got.chunks, encodeKey(w.key)).to.have.length(1);
        expect(Buffer.compare(got.chunks[0]!, w.bytes), `bytes of ${encodeKey(w.key)}`).to.equal(0);
      }
    } finally {
      for (const c of clients) c.close();
      await server.shutdown(1_000);
    }
  });

  it('never lets eviction or overwrites change the bytes of a reply still being sent: every byte arrives as stored', async () => {
    const CHUNK = 1024 * 1024;
    const layout = MemoryLayout.bytes(CHUNK);
    // L1 holds 48 chunks; the reply pins 32 of them while other clients write 96 more.
    const storage = new StorageManager({ l1: { capacityBytes: 48 * CHUNK } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null, transport: 'tcp', maxPayloadBytes: 64 * CHUNK, maxInFlightPerClient: 64 });
    await server.start();
    const writer = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 20_000 });
    const reader = rawPeer(server.endpoint);
    try {
      const keys = Array.from({ length: 32 }, (_, i) => testKey(i));
      const original = keys.map((_, i) => patternBytes(i, CHUNK));
      expect((await writer.store(keys, original)).storedCount).to.equal(32);

      // The reader asks for all 32 and reads nothing: most of the 32 MiB waits in the server's
      // socket, as views of L1.
      reader.pause();
      await reader.send(encodeRequest(1, { type: 'retrieve', keys: keys.map(encodeKey), layout: layout.toString() }));
      await waitFor(() => server.replyBytes.queued > 0, 'the reply is being sent');
      expect(server.status().locks.held).to.equal(32);

      // Pressure: overwrite the very keys in flight, and fill L1 with new ones (eviction on demand).
      const other = Array.from({ length: 96 }, (_, i) => testKey(1000 + i));
      for (let i = 0; i < other.length; i += 8) {
        const batch = other.slice(i, i + 8);
        await writer.store(batch, batch.map((_, j) => patternBytes(5000 + i + j, CHUNK)), { mode: 'all' });
        await writer.store(keys.slice(i % 32, (i % 32) + 8), keys.slice(i % 32, (i % 32) + 8).map((_, j) => patternBytes(9000 + j, CHUNK)), { mode: 'all' });
      }
      // The held objects were never evicted under the reply.
      expect(server.status().locks.held).to.equal(32);

      reader.resume();
      const reply = await reader.receive(30_000);
      const header = decodeHeader(reply[1]);
      expect(header).to.include({ ok: true, count: 32 });
      for (let i = 0; i < 32; i++) expect(Buffer.compare(reply[2 + i]!, original[i]!), `chunk ${i}`).to.equal(0);
      await waitFor(() => server.status().locks.held === 0, 'the reply let its locks go once sent');
      expect(storage.l1!.memcheck().ok, 'L1 accounting intact').to.equal(true);
    } finally {
      reader.close();
      writer.close();
      await server.shutdown(1_000);
    }
  });
});
