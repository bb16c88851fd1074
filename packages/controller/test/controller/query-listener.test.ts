import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import * as zmq from 'zeromq';
import { ConfigError } from '@tierkv/core';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { ControllerClient } from '../../src/client/controller-client.js';
import { CacheController } from '../../src/controller/cache-controller.js';
import { hashesToBytes } from '../../src/pool/chunk-hash.js';
import { decodeReply, encodeMessage } from '../../src/protocol/codec.js';
import type { ControllerMsg } from '../../src/protocol/messages.js';
import { QUERY_HELLO, QueryStreamReader, queryFrameHeader } from '../../src/protocol/query-stream.js';
import { hashOf } from '../helpers/fake-storage.js';
import { admits } from '../helpers/messages.js';

function portOf(endpoint: string): number {
  return Number(endpoint.split(':').pop());
}

function frame(msg: ControllerMsg): Buffer {
  const p = encodeMessage(msg);
  return Buffer.concat([queryFrameHeader(p), p]);
}

/** A raw connection to the query port; resolves once the controller closed it. */
function rawConnection(port: number, bytes: Buffer): { socket: Socket; closed: Promise<void>; replies: Buffer[] } {
  const replies: Buffer[] = [];
  const reader = new QueryStreamReader(1 << 26, (p) => replies.push(Buffer.from(p)), false);
  const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
  socket.on('data', (c: Buffer) => reader.push(c));
  const closed = new Promise<void>((resolve) => {
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
  return { socket, closed, replies };
}

describe('CacheController query listener (plain TCP)', () => {
  let controller: CacheController;
  let telemetry: TestMeterProvider;
  const open: { close(): unknown }[] = [];

  async function start(options: ConstructorParameters<typeof CacheController>[0] = {}): Promise<void> {
    telemetry = createTestMeterProvider();
    controller = new CacheController({ pullPort: 0, routerPort: 0, queryPort: 0, httpPort: false, meterProvider: telemetry.meterProvider, ...options });
    await controller.start();
  }

  async function registerWithKeys(instanceId: string, hashes: number[]): Promise<void> {
    const d = new zmq.Dealer({ linger: 0, receiveTimeout: 3000 });
    const p = new zmq.Push({ linger: 0 });
    open.push(d, p);
    d.connect(controller.addresses.router);
    p.connect(controller.addresses.pull);
    await d.send(['', encodeMessage({ t: 'register', instanceId, workerId: 0, version: 1, seqs: {}, keyCount: 0 })]);
    await d.receive();
    const before = controller.poolUsage().keys;
    if (hashes.length > 0) await p.send(encodeMessage(admits(instanceId, 0, hashes)));
    await waitFor(() => controller.poolUsage().keys === before + hashes.length, 'events');
  }

  function client(timeoutMs = 2000): ControllerClient {
    const c = new ControllerClient({ query: controller.addresses.query!, timeoutMs });
    open.push(c);
    return c;
  }

  afterEach(async () => {
    for (const o of open.splice(0).reverse()) o.close();
    await controller.close();
    await telemetry.shutdown();
  });

  it('answers lookups (hex and binary) and workers like the ROUTER does', async () => {
    await start();
    expect(controller.addresses.query).to.match(/^tierkv\+tcp:\/\/127\.0\.0\.1:\d+$/);
    await registerWithKeys('i1', [1, 2]);
    const hex = [hashOf(1), hashOf(2), hashOf(3)];
    const router = new ControllerClient({ router: controller.addresses.router });
    open.push(router);
    const expected = await router.lookup({ hashes: hex }, { modelName: 'm' });
    expect(expected).to.deep.equal([{ instanceId: 'i1', workerId: 0, chunks: 2, tokens: 512, locations: { l1: 2 } }]);
    const q = client();
    expect(await q.lookup({ hashes: hex }, { modelName: 'm' })).to.deep.equal(expected);
    expect(await q.lookup({ hashes: hashesToBytes(hex) }, { modelName: 'm' })).to.deep.equal(expected);
    // Requests issued together queue on the one connection and each gets its own reply.
    const many = await Promise.all([1, 2, 3].map((n) => q.lookup({ hashes: hex.slice(0, n) }, { modelName: 'm' })));
    expect(many.map((h) => h[0]!.chunks)).to.deep.equal([1, 2, 2]);
    expect((await q.workers()).map((w) => w.instanceId)).to.deep.equal(['i1']);
    // A refused request is a typed error, and the connection goes on serving.
    await q.lookup({ hashes: hex }, { modelName: '' }).then(
      () => expect.fail('a scope without a model name must be refused'),
      (err: unknown) => expect(err).to.have.property('code', 'ERR_PROTOCOL'),
    );
    expect(await q.lookup({ hashes: hex }, { modelName: 'm' })).to.deep.equal(expected);
    const rm = await telemetry.collect();
    expect(valueOf(rm, 'tierkv.controller.messages.received', { 'tierkv.controller.socket': 'query' })).to.equal(8);
    expect(valueOf(rm, 'tierkv.controller.message.duration', { 'tierkv.controller.socket': 'query', 'tierkv.controller.message.type': 'lookup' })).to.equal(6);
  });

  it('refuses worker requests and undecodable payloads with an error reply, counted as dropped', async () => {
    await start();
    const c = rawConnection(
      portOf(controller.addresses.query!),
      Buffer.concat([QUERY_HELLO, frame({ t: 'register', instanceId: 'w', workerId: 0, version: 1, seqs: {}, keyCount: 0 }), queryFrameHeader(Buffer.from('junk')), Buffer.from('junk')]),
    );
    open.push({ close: () => c.socket.destroy() });
    await waitFor(() => c.replies.length === 2, 'two error replies');
    const [wrong, junk] = c.replies.map((r) => decodeReply(r));
    expect(wrong).to.deep.include({ ok: true });
    expect(wrong!.ok && wrong!.msg.t === 'error' && wrong!.msg.message).to.match(/register is not a query.*ROUTER/);
    expect(junk!.ok && junk!.msg.t === 'error' && junk!.msg.code).to.equal('ERR_PROTOCOL');
    expect(controller.workers()).to.deep.equal([]);
    expect(controller.stats.droppedCount('query', 'wrong_socket')).to.equal(1);
    expect(controller.stats.droppedCount('query', 'malformed')).to.equal(1);
  });

  it('closes connections that do not say hello or announce an oversized message, and keeps serving', async () => {
    await start({ maxMessageBytes: 4096 });
    const port = portOf(controller.addresses.query!);
    const http = rawConnection(port, Buffer.from('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
    await http.closed;
    const huge = Buffer.alloc(4);
    huge.writeUInt32LE(4097, 0);
    const oversized = rawConnection(port, Buffer.concat([QUERY_HELLO, huge, Buffer.alloc(100)]));
    await oversized.closed;
    await waitFor(() => controller.stats.connectionsClosed.query.disconnect === 1, 'the oversized connection counted');
    expect(controller.stats.connectionsClosed.query.handshake_failed).to.equal(1);
    expect(controller.stats.droppedCount('query', 'malformed')).to.equal(1);
    expect(await client().workers()).to.deep.equal([]);
  });

  it('closes a client that sends requests but never reads the replies', async () => {
    await start({ maxMessageBytes: 4096 });
    // 50 workers make each query_workers reply a few KiB; the client asks 5000 times and reads none.
    for (let i = 0; i < 50; i++) await registerWithKeys(`worker-${i}`, []);
    const ask = frame({ t: 'query_workers' });
    const greedy = rawConnection(portOf(controller.addresses.query!), Buffer.concat([QUERY_HELLO, ...new Array<Buffer>(5000).fill(ask)]));
    greedy.socket.pause();
    open.push({ close: () => greedy.socket.destroy() });
    // The client reads nothing, so it notices nothing either: the controller's count tells.
    await waitFor(() => controller.stats.connectionsClosed.query.disconnect === 1, 'the connection closed by the controller');
    expect((await client().workers()).length).to.equal(50);
  });

  it('tells the client when the controller goes away, and reconnects to the next one on that port', async () => {
    await start();
    const query = controller.addresses.query!;
    const q = client();
    expect(await q.workers()).to.deep.equal([]);
    await controller.close();
    await telemetry.shutdown();
    await q.workers().then(
      () => expect.fail('no controller to answer'),
      (err: unknown) => expect(err).to.have.property('code', 'ERR_UNAVAILABLE'),
    );
    await start({ queryPort: portOf(query) });
    expect(await q.workers()).to.deep.equal([]);
  });

  it('close() ends idle connections and answers nothing more', async () => {
    await start();
    const q = client();
    await q.workers();
    const c = rawConnection(portOf(controller.addresses.query!), QUERY_HELLO);
    open.push({ close: () => c.socket.destroy() });
    await controller.close();
    await c.closed;
    await q.workers().then(
      () => expect.fail('closed'),
      (err: unknown) => expect(err).to.have.property('code', 'ERR_UNAVAILABLE'),
    );
  });

  it('refuses a queryPort together with an authToken, and bad client options', async () => {
    await start();
    expect(() => new CacheController({ queryPort: 0, authToken: 'b3f9c1d2e4a5968778695a4b3c2d1e0f' })).to.throw(ConfigError, /controller\.queryPort/);
    expect(() => new ControllerClient({})).to.throw(ConfigError, /exactly one/);
    expect(() => new ControllerClient({ router: 'tcp://127.0.0.1:1', query: 'tierkv+tcp://127.0.0.1:1' })).to.throw(ConfigError, /exactly one/);
    expect(() => new ControllerClient({ router: 'tierkv+tcp://127.0.0.1:1' })).to.throw(ConfigError, /goes in `query`/);
    expect(() => new ControllerClient({ query: 'tcp://127.0.0.1:1' })).to.throw(ConfigError, /controllerClient\.query/);
    expect(() => new ControllerClient({ query: 'tierkv+tcp://127.0.0.1:1', authToken: 'b3f9c1d2e4a5968778695a4b3c2d1e0f' })).to.throw(ConfigError, /no authentication/);
  });
});

describe('ControllerClient over tierkv+tcp:// (against a peer that does not answer)', () => {
  let server: Server;
  const accepted: Socket[] = [];

  before(async () => {
    server = createServer((s) => {
      accepted.push(s);
      s.resume(); // read (and drop) the requests, so the client's close is seen
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });

  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('times out, drops the connection, and opens a new one for the next request', async () => {
    const port = (server.address() as { port: number }).port;
    const c = new ControllerClient({ query: `tierkv+tcp://127.0.0.1:${port}`, timeoutMs: 100 });
    try {
      for (let i = 0; i < 2; i++) {
        await c.workers().then(
          () => expect.fail('nobody answers'),
          (err: unknown) => {
            expect(err).to.have.property('code', 'ERR_TIMEOUT');
            expect((err as Error).message).to.match(/controllerClient\.timeoutMs/);
          },
        );
      }
      await waitFor(() => accepted.length === 2 && accepted[0]!.destroyed, 'a fresh connection per timed-out request');
    } finally {
      c.close();
    }
  });

  it('reports a refused connection as unavailable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const free = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const c = new ControllerClient({ query: `tierkv+tcp://127.0.0.1:${free}`, timeoutMs: 2000 });
    try {
      await c.workers().then(
        () => expect.fail('nothing listens there'),
        (err: unknown) => {
          expect(err).to.have.property('code', 'ERR_UNAVAILABLE');
          expect((err as Error).message).to.match(/ECONNREFUSED/);
        },
      );
    } finally {
      c.close();
    }
  });
});
