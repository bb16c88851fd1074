import { expect } from 'chai';
import { encodeKey, MemoryLayout } from '@tierkv/core';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { ServerBusyError } from '../../src/client/client-errors.js';
import { decodeHeader, decodePrelude, encodePrelude, encodeRequest } from '../../src/protocol/codec.js';
import { KIND_REQUEST } from '../../src/protocol/messages.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import { FakeStorage } from '../helpers/fake-storage.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { rawPeer, TRANSPORTS } from '../helpers/raw-peer.js';
import { LAYOUT, ServerFixture } from '../helpers/server-fixture.js';

/** A raw peer that speaks (or breaks) the protocol by hand. */
async function rawCall(endpoint: string, frames: Uint8Array[]): Promise<{ id: number; header: Record<string, unknown> }> {
  const d = rawPeer(endpoint);
  try {
    await d.send(frames);
    const [prelude, header] = await d.receive();
    return { id: decodePrelude(prelude).id, header: decodeHeader(header) };
  } finally {
    d.close();
  }
}

for (const transport of TRANSPORTS)
describe(`server/TierkvServer (over a fake StorageManager, ${transport})`, function () {
  this.timeout(15_000);
  let fx: ServerFixture;

  afterEach(async () => {
    await fx?.close();
  });

  it('answers ping and status, and serves /healthz and /status', async () => {
    fx = await new ServerFixture(transport).start({ metrics: { scrape: async () => ({ contentType: 'text/plain', body: 'tierkv_server_requests_total 1\n' }) } });
    const c = fx.client();
    const pong = await c.ping();
    expect(pong.version).to.equal('0.1.0');
    const status = await c.status();
    expect(status.state).to.equal('running');
    expect(status.tiers[0]!.tier).to.equal('l1');
    const url = fx.server.addresses.httpUrl!;
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
    const body = (await (await fetch(`${url}/status`)).json()) as { clients: { sessions: number }; version: string };
    expect(body.version).to.equal('0.1.0');
    expect(body.clients.sessions).to.equal(1);
    await waitFor(() => fx.server.status().clients.connected === 1, 'one connection counted');
    expect(await (await fetch(`${url}/metrics`)).text()).to.contain('tierkv_server_requests_total');
    expect((await fetch(`${url}/nope`)).status).to.equal(404);
  });

  it('stores and retrieves chunks byte for byte', async () => {
    fx = await new ServerFixture(transport).start();
    const c = fx.client();
    const keys = [0, 1, 2, 3].map((i) => testKey(i));
    const data = keys.map((_, i) => patternBytes(i, LAYOUT.byteSize));
    expect((await c.store(keys, data)).stored).to.deep.equal([true, true, true, true]);
    expect((await c.store(keys.slice(0, 1), data.slice(0, 1))).stored).to.deep.equal([false]);
    const got = await c.retrieve(keys);
    expect(got.chunks).to.have.length(4);
    got.chunks.forEach((chunk, i) => expect(Buffer.from(chunk).equals(Buffer.from(data[i]!))).to.equal(true));
    // A missing key ends the prefix.
    expect((await c.retrieve([keys[0]!, testKey(99), keys[2]!])).chunks).to.have.length(1);
    // A zero-copy reply (tcp) holds its locks until its bytes left, which may be just after the client read them.
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
  });

  it('caps a retrieve reply at maxPayloadBytes (a shorter prefix)', async () => {
    fx = await new ServerFixture(transport).start({ maxPayloadBytes: 3 * LAYOUT.byteSize + 100 });
    const c = fx.client();
    const keys = [0, 1, 2, 3, 4].map((i) => testKey(i));
    for (const [i, k] of keys.entries()) await c.store([k], [patternBytes(i, LAYOUT.byteSize)]);
    const got = await c.retrieve(keys);
    expect(got.chunks).to.have.length(3);
    const rest = await c.retrieve(keys.slice(3));
    expect(Buffer.from(rest.chunks[1]!).equals(Buffer.from(patternBytes(4, LAYOUT.byteSize)))).to.equal(true);
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
  });

  it('hashes token ids on the server', async () => {
    fx = await new ServerFixture(transport).start({ chunkSize: 4 });
    const c = fx.client();
    const tokens = { tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], scope: { modelName: 'm' } };
    const stored = await c.store(tokens, [patternBytes(1, LAYOUT.byteSize), patternBytes(2, LAYOUT.byteSize)]);
    expect(stored.keys).to.have.length(2);
    expect(stored.stored).to.deep.equal([true, true]);
    const found = await c.lookup(tokens, { prefetch: false });
    expect(found.tiers).to.deep.equal(['l1', 'l1']);
    const got = await c.retrieve(stored.keys);
    expect(Buffer.from(got.chunks[1]!).equals(Buffer.from(patternBytes(2, LAYOUT.byteSize)))).to.equal(true);
  });

  it('holds prefetch locks until retrieve or release', async () => {
    fx = await new ServerFixture(transport).start();
    const c = fx.client();
    const keys = [0, 1, 2].map((i) => testKey(i));
    await c.store(keys.slice(0, 2), [patternBytes(0, LAYOUT.byteSize), patternBytes(1, LAYOUT.byteSize)]);
    const l = await c.lookup(keys, { wait: true });
    expect(l.tiers).to.deep.equal(['l1', 'l1', 'miss']);
    expect(l.prefixLength).to.equal(2);
    expect(l.ready).to.equal(2);
    expect(fx.storage.locksHeld()).to.equal(2);
    expect(await c.prefetchStatus(l.prefetchId!)).to.equal(2);
    const got = await c.retrieve(keys.slice(0, 2), { prefetchId: l.prefetchId! });
    expect(got.chunks).to.have.length(2);
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
    await expectRejected(c.retrieve(keys, { prefetchId: l.prefetchId! }), 'NOT_FOUND');

    const l2 = await c.lookup(keys);
    expect(l2.prefetchId).to.be.a('number');
    expect(await c.release(l2.prefetchId!)).to.equal(2);
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
    // Nothing to lock: no prefetch is opened.
    const miss = await c.lookup([testKey(50)]);
    expect(miss.prefetchId).to.equal(undefined);
    expect(miss.ready).to.equal(0);
  });

  it('releases the locks of a client that stops talking once its lease expires', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    fx = await new ServerFixture(transport).start({ lockLeaseMs: 1_000, clientIdleMs: 5_000, sweepIntervalMs: 10 }, meterProvider);
    const c = fx.client();
    await c.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);
    const l = await c.lookup([testKey(1)], { wait: true });
    expect(fx.storage.locksHeld()).to.equal(1);
    fx.now += 999;
    await fx.server.sweep();
    expect(fx.storage.locksHeld()).to.equal(1);
    fx.now += 1;
    await waitFor(() => fx.storage.locksHeld() === 0, 'lease expiry');
    expect(fx.server.status().locks.held).to.equal(0);
    await expectRejected(c.release(l.prefetchId!), 'NOT_FOUND');
    fx.now += 10_000;
    await waitFor(() => fx.server.status().clients.sessions === 0, 'idle client forgotten');
    expect(valueOf(await collect(), 'tierkv.server.locks.expired')).to.equal(1);
    await shutdown();
  });

  it('answers malformed frames, unknown types, oversized payloads and wrong layouts with errors, and keeps serving', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    fx = await new ServerFixture(transport).start({ maxPayloadBytes: 64 * 1024 }, meterProvider);
    const ep = fx.server.endpoint;
    const c = fx.client();

    const garbage = await rawCall(ep, [Buffer.from('not a prelude'), Buffer.from('x')]);
    expect(garbage.header).to.include({ ok: false, code: 'MALFORMED' });
    const badHeader = await rawCall(ep, [encodePrelude(KIND_REQUEST, 77), Buffer.from([0xc1])]);
    expect(badHeader.id).to.equal(77);
    expect(badHeader.header).to.include({ ok: false, code: 'MALFORMED' });
    const unknown = await rawCall(ep, encodeRequest(78, { type: 'teleport' }));
    expect(unknown.header).to.include({ ok: false, code: 'UNKNOWN_TYPE', field: 'type' });
    const big = await rawCall(ep, encodeRequest(79, { type: 'store', keys: [encodeKey(testKey(1))], layout: 'uint8[70000]' }, [new Uint8Array(70_000)]));
    expect(big.header).to.include({ ok: false, code: 'TOO_LARGE' });
    const wrongSize = await rawCall(ep, encodeRequest(80, { type: 'store', keys: [encodeKey(testKey(1))], layout: LAYOUT.toString() }, [new Uint8Array(100)]));
    expect(wrongSize.header).to.include({ ok: false, code: 'LAYOUT_MISMATCH', field: 'frames[0]' });
    const missingFrame = await rawCall(ep, encodeRequest(81, { type: 'store', keys: [encodeKey(testKey(1))], layout: LAYOUT.toString() }));
    expect(missingFrame.header).to.include({ ok: false, code: 'BAD_REQUEST', field: 'frames' });

    await c.store([testKey(2)], [patternBytes(2, LAYOUT.byteSize)]);
    await expectRejected(c.retrieve([testKey(2)], { layout: MemoryLayout.bytes(1024) }), 'LAYOUT_MISMATCH');
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
    expect((await c.retrieve([testKey(2)])).chunks).to.have.length(1);
    expect((await c.ping()).version).to.equal('0.1.0');

    const rm = await collect();
    expect(valueOf(rm, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'malformed' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'unknown_type' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'too_large' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.server.requests.rejected', { 'tierkv.reject.reason': 'invalid' })).to.equal(3);
    expect(valueOf(rm, 'tierkv.server.requests', { 'tierkv.request.type': 'unknown', 'tierkv.request.outcome': 'client_error' })).to.be.at.least(3);
    expect(valueOf(rm, 'tierkv.server.requests', { 'tierkv.request.type': 'retrieve', 'tierkv.request.outcome': 'ok' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.server.request.duration', { 'tierkv.request.type': 'store' })).to.be.at.least(1);
    expect(valueOf(rm, 'tierkv.server.received')).to.be.greaterThan(LAYOUT.byteSize);
    expect(valueOf(rm, 'tierkv.server.sent')).to.be.greaterThan(LAYOUT.byteSize);
    await shutdown();
  });

  it('answers every one of many random messages and keeps serving', async () => {
    fx = await new ServerFixture(transport).start();
    const d = rawPeer(fx.server.endpoint);
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rnd(256)));
    const count = 200;
    try {
      for (let i = 0; i < count; i++) {
        const frames: Buffer[] = [];
        // Half of them start with a valid prelude, so the header and chunk frames get parsed.
        frames.push(i % 2 === 0 ? encodePrelude(KIND_REQUEST, i) : bytes(rnd(12)));
        for (let f = rnd(4); f > 0; f--) frames.push(bytes(rnd(64)));
        await d.send(frames);
      }
      const codes = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const [, header] = await d.receive();
        const code = String(decodeHeader(header!)['code'] ?? 'ok');
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      expect([...codes.keys()].every((c) => ['MALFORMED', 'UNKNOWN_TYPE', 'BAD_REQUEST'].includes(c)), JSON.stringify([...codes])).to.equal(true);
    } finally {
      d.close();
    }
    expect((await fx.client().ping()).version).to.equal('0.1.0');
  });

  it('refuses work beyond maxInFlightPerClient with BUSY instead of queueing it', async () => {
    fx = await new ServerFixture(transport).start({ maxInFlight: 8, maxInFlightPerClient: 2 });
    fx.storage.prefetchDelayMs = 150;
    const greedy = fx.client();
    const other = fx.client();
    await greedy.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(() => greedy.retrieve([testKey(1)])));
    const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof ServerBusyError);
    expect(busy.length).to.equal(3);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(2);
    // Another client is unaffected by the greedy one.
    const [a, b] = await Promise.all([other.retrieve([testKey(1)]), greedy.ping()]);
    expect(a.chunks).to.have.length(1);
    expect(b.version).to.equal('0.1.0');
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
  });

  it('answers a store the storage refuses under write-through back-pressure with BUSY, and stores on retry', async () => {
    fx = await new ServerFixture(transport).start();
    const c = fx.client();
    const keys = [testKey(1), testKey(2)];
    const data = keys.map((_, i) => patternBytes(i, LAYOUT.byteSize));
    fx.storage.backpressure = 'queue_bytes';
    const err = await c.store(keys, data).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ServerBusyError);
    expect((err as Error).message).to.match(/write-through to L2 is behind.*retry/);
    expect(fx.storage.entries.size).to.equal(0);
    fx.storage.backpressure = undefined;
    expect((await c.store(keys, data)).stored).to.deep.equal([true, true]);
    // A key refused for another reason (already stored) is still a plain `stored: false`.
    expect((await c.store(keys.slice(0, 1), data.slice(0, 1))).stored).to.deep.equal([false]);
  });

  it('does not let a client that never reads its replies stall the others', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    fx = await new ServerFixture(transport).start({ sendHighWaterMark: 4, maxInFlightPerClient: 256, maxPayloadBytes: 1024 * 1024, maxReplyBytesPerClient: 2 * 1024 * 1024 }, meterProvider);
    const big = MemoryLayout.bytes(256 * 1024);
    const fast = fx.client({ layout: big });
    await fast.store([testKey(1)], [patternBytes(1, big.byteSize)]);
    // The slow peer asks for 1/4 MiB replies as fast as it can and reads none of them.
    const slow = rawPeer(fx.server.endpoint, { slow: true });
    slow.pause();
    try {
      for (let i = 0; i < 200; i++) await slow.send(encodeRequest(i, { type: 'retrieve', keys: [encodeKey(testKey(1))], layout: big.toString() }));
      await waitFor(async () => (valueOf(await collect(), 'tierkv.server.replies.dropped', { 'tierkv.drop.reason': 'peer_slow' }) ?? 0) > 0, 'replies to the slow peer dropped');
      expect(valueOf(await collect(), 'tierkv.server.clients.shed', { 'tierkv.shed.reason': 'client_budget' })).to.be.at.least(1);
      for (let i = 0; i < 20; i++) {
        const got = await fast.retrieve([testKey(1)], { timeoutMs: 2_000 });
        expect(Buffer.from(got.chunks[0]!).equals(Buffer.from(patternBytes(1, big.byteSize)))).to.equal(true);
      }
      await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
    } finally {
      slow.close();
      await shutdown();
    }
  });

  it('fails a request past its deadline with TIMEOUT and releases what it locked later', async () => {
    // The server's deadline (200 ms) is far below the client's own wait (10 s): the TIMEOUT reply
    // arrives first however slowly a loaded machine runs, never the client's local timeout.
    fx = await new ServerFixture(transport).start({ requestTimeoutMs: 200 });
    fx.storage.prefetchDelayMs = 400;
    const c = fx.client({ reconnectOnTimeout: false });
    await c.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);
    const err = await c.retrieve([testKey(1)], { timeoutMs: 10_000 }).then(
      () => expect.fail('expected a timeout'),
      (e: Error & { serverCode?: string }) => e,
    );
    expect(err.serverCode).to.equal('TIMEOUT');
    expect(err.message).to.match(/timeoutMs|requestTimeoutMs/);
    await waitFor(() => fx.server.status().locks.held === 0 && fx.storage.locksHeld() === 0, 'late locks released', 30_000);
  });

  it('drains in-flight requests on shutdown, refuses new ones, and closes the storage', async () => {
    fx = await new ServerFixture(transport).start();
    fx.storage.prefetchDelayMs = 200;
    const c = fx.client();
    await c.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);
    const slow = c.retrieve([testKey(1)]);
    await waitFor(() => fx.server.status().requests.inFlight === 1, 'request in flight');
    const done = fx.server.shutdown();
    expect(fx.server.state).to.equal('draining');
    const refused = await c.ping({ timeoutMs: 1_000 }).then(
      () => 'answered',
      (e: Error & { serverCode?: string }) => e.serverCode ?? e.name,
    );
    expect(refused).to.equal('SHUTTING_DOWN');
    expect((await slow).chunks).to.have.length(1);
    await done;
    expect(fx.server.state).to.equal('closed');
    expect(fx.storage.closeCalls).to.equal(1);
    await waitFor(() => fx.storage.locksHeld() === 0, 'every read lock released');
  });

  it('fails what is still running when the shutdown timeout passes', async () => {
    fx = await new ServerFixture(transport).start();
    fx.storage.prefetchDelayMs = 2_000;
    const c = fx.client();
    await c.store([testKey(1)], [patternBytes(1, LAYOUT.byteSize)]);
    const slow = c.retrieve([testKey(1)]).then(
      () => 'answered',
      (e: Error & { serverCode?: string }) => e.serverCode,
    );
    await waitFor(() => fx.server.status().requests.inFlight === 1, 'request in flight');
    await fx.server.shutdown(50);
    expect(await slow).to.equal('SHUTTING_DOWN');
  });

  it('fails start() with EADDRINUSE when a port is taken, and closes what it opened', async () => {
    fx = await new ServerFixture(transport).start();
    const port = Number(fx.server.endpoint.split(':').pop());
    const storage = new FakeStorage();
    const second = new TierkvServer({ storage: storage.asStorageManager(), port, httpPort: null });
    await second.start().then(
      () => expect.fail('expected the bind to fail'),
      (e: Error & { code?: string; address?: string }) => {
        expect(e.code).to.equal('EADDRINUSE');
        expect(e.address).to.equal(`tcp://127.0.0.1:${port}`);
      },
    );
    expect(second.state).to.equal('closed');
    await second.shutdown();
    const httpPort = Number(new URL(fx.server.addresses.httpUrl!).port);
    const third = new TierkvServer({ storage: storage.asStorageManager(), port: 0, httpPort });
    await third.start().then(
      () => expect.fail('expected the HTTP listen to fail'),
      (e: Error & { code?: string; port?: number }) => expect([e.code, e.port]).to.deep.equal(['EADDRINUSE', httpPort]),
    );
    await third.shutdown();
  });

  it('rejects bad options with ConfigError naming the field', () => {
    const storage = new FakeStorage().asStorageManager();
    expect(() => new TierkvServer({ storage, maxInFlight: 0 })).to.throw(/server\.maxInFlight/);
    expect(() => new TierkvServer({ storage, port: 70000 })).to.throw(/server\.port/);
    expect(() => new TierkvServer({} as never)).to.throw(/server\.storage/);
    expect(() => new TierkvServer({ storage, maxPayloadBytes: 1024, maxReplyBytesPerClient: 1000 })).to.throw(/server\.maxReplyBytesPerClient/);
    expect(() => new TierkvServer({ storage, maxPayloadBytes: 1024, maxReplyBytesPerClient: 4096, maxReplyBytes: 2048 })).to.throw(/server\.maxReplyBytes\b/);
    expect(() => new TierkvServer({ storage, maxReplyBytes: -1 })).to.throw(/server\.maxReplyBytes/);
    expect(new TierkvServer({ storage, maxPayloadBytes: 1024 }).options).to.include({ maxReplyBytesPerClient: 2048, maxReplyBytes: 4096, sendHighWaterMark: 16 });
  });
});

async function expectRejected(p: Promise<unknown>, serverCode: string): Promise<void> {
  const err = await p.then(
    () => expect.fail(`expected ${serverCode}`),
    (e: Error & { serverCode?: string }) => e,
  );
  expect(err.serverCode, err.message).to.equal(serverCode);
}
