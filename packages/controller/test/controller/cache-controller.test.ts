import { expect } from 'chai';
import { connect } from 'node:net';
import * as zmq from 'zeromq';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { InvalidArgumentError } from '@tierkv/core';
import { CacheController } from '../../src/controller/cache-controller.js';
import { hashesToBytes } from '../../src/pool/chunk-hash.js';
import { decodeReply, encodeMessage } from '../../src/protocol/codec.js';
import { hashOf } from '../helpers/fake-storage.js';
import { admits } from '../helpers/messages.js';

describe('CacheController (sockets)', () => {
  let controller: CacheController;
  let telemetry: TestMeterProvider;
  const sockets: zmq.Socket[] = [];

  beforeEach(async () => {
    telemetry = createTestMeterProvider();
    controller = new CacheController({ pullPort: 0, routerPort: 0, heartbeatPort: 0, httpPort: 0, meterProvider: telemetry.meterProvider });
    await controller.start();
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    await controller.close();
    await telemetry.shutdown();
  });

  function push(): zmq.Push {
    const p = new zmq.Push({ linger: 0 });
    p.connect(controller.addresses.pull);
    sockets.push(p);
    return p;
  }

  function dealer(endpoint = controller.addresses.router): zmq.Dealer {
    const d = new zmq.Dealer({ linger: 0, receiveTimeout: 3000 });
    d.connect(endpoint);
    sockets.push(d);
    return d;
  }

  async function request(d: zmq.Dealer, msg: Parameters<typeof encodeMessage>[0], delimiter = true) {
    await d.send(delimiter ? ['', encodeMessage(msg)] : [encodeMessage(msg)]);
    const frames = await d.receive();
    return { frames, reply: decodeReply(frames[frames.length - 1]!) };
  }

  const registerMsg = (instanceId: string) => ({ t: 'register', instanceId, workerId: 0, version: 1, seqs: {}, keyCount: 0 }) as const;

  it('answers ROUTER requests framed with and without the empty delimiter, in the same layout', async () => {
    const d = dealer();
    const three = await request(d, registerMsg('i1'), true);
    expect(three.frames.length).to.equal(2);
    expect(three.frames[0]!.length).to.equal(0);
    expect(three.reply).to.deep.include({ ok: true });
    const two = await request(d, { t: 'query_workers' }, false);
    expect(two.frames.length).to.equal(1);
    expect(two.reply.ok && two.reply.msg.t === 'workers_ok' && two.reply.msg.workers.length).to.equal(1);
  });

  it('keeps the PULL loop running after garbage frames from a ZeroMQ peer', async () => {
    const d = dealer();
    await request(d, registerMsg('i1'));
    const p = push();
    await p.send(Buffer.from('GET /metrics HTTP/1.1\r\nHost: controller\r\n\r\n')); // "G" is a msgpack int
    await p.send(Buffer.from('{not json'));
    await p.send(Buffer.from([0xc1])); // never-used msgpack byte
    await p.send(encodeMessage({ t: 'nope' } as never));
    await p.send(['two', 'parts']);
    await p.send(Buffer.alloc(0));
    await p.send(encodeMessage({ ...admits('i1', 0, [1]), ops: new Uint8Array([7]) })); // invalid op
    await p.send(encodeMessage(admits('i1', 0, [1, 2])));
    await waitFor(() => controller.poolUsage().keys === 2, 'the valid batch after the garbage');
    const s = controller.stats;
    expect(s.droppedCount('pull')).to.equal(7);
    // Trailing bytes after a msgpack value make the HTTP text and "{not json" malformed.
    expect(s.droppedCount('pull', 'malformed')).to.equal(4);
    expect(s.droppedCount('pull', 'unknown_type')).to.equal(2); // 0xc1 decodes to a placeholder object in msgpackr
    expect(s.droppedCount('pull', 'invalid')).to.equal(1);
    expect(s.received.pull).to.equal(8);
  });

  it('keeps serving after a raw TCP client sends an HTTP request to the PULL and ROUTER ports', async () => {
    for (const endpoint of [controller.addresses.pull, controller.addresses.router]) {
      const port = Number(endpoint.split(':').pop());
      await new Promise<void>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'));
        sock.on('error', () => resolve());
        sock.on('close', () => resolve());
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 200);
      });
    }
    const d = dealer();
    expect((await request(d, registerMsg('i1'))).reply).to.deep.include({ ok: true });
    await push().send(encodeMessage(admits('i1', 0, [5])));
    await waitFor(() => controller.poolUsage().keys === 1, 'a batch after the HTTP garbage');
  });

  it('replies with an error to an undecodable request and keeps the ROUTER loop going', async () => {
    const d = dealer();
    await d.send(['', Buffer.from('garbage')]);
    const [, bad] = await d.receive();
    expect(decodeReply(bad!)).to.deep.include({ ok: true, msg: { t: 'error', code: 'ERR_PROTOCOL', message: bad && decodeReply(bad).ok ? (decodeReply(bad) as { msg: { message: string } }).msg.message : '' } });
    // An event type sent as a request is refused, not applied.
    const r = await request(d, admits('i1', 0, [1]));
    expect(r.reply.ok && r.reply.msg.t).to.equal('error');
    expect((await request(d, registerMsg('i1'))).reply).to.deep.include({ ok: true });
    expect(controller.stats.droppedCount('router')).to.equal(2);
  });

  it('takes heartbeats on the separate heartbeat socket', async () => {
    await request(dealer(), registerMsg('i1'));
    const hb = await request(dealer(controller.addresses.heartbeat), { t: 'heartbeat', instanceId: 'i1', workerId: 0, seqs: {}, keyCount: 0 });
    expect(hb.reply).to.deep.include({ ok: true });
    expect(controller.stats.received.heartbeat).to.equal(1);
  });

  it('exports the controller metrics', async () => {
    const d = dealer();
    await request(d, registerMsg('i1'));
    await push().send(encodeMessage(admits('i1', 0, [1, 2, 3])));
    await push().send(encodeMessage(admits('i1', 7, [4])));
    await push().send(Buffer.from('G')); // a lone msgpack int: decodes, but is no message
    await waitFor(() => controller.poolUsage().keys === 4, 'events');
    controller.lookup({ hashes: [hashOf(1), hashOf(2)] }, { modelName: 'm' });
    const rm = await telemetry.collect();
    expect(valueOf(rm, 'tierkv.controller.kv_pool.keys')).to.equal(4);
    expect(valueOf(rm, 'tierkv.controller.workers.registered')).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.messages.received', { 'tierkv.controller.socket': 'pull' })).to.equal(3);
    expect(valueOf(rm, 'tierkv.controller.messages.received', { 'tierkv.controller.socket': 'router' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.socket.pending', { 'tierkv.controller.socket': 'pull' })).to.equal(0);
    expect(valueOf(rm, 'tierkv.controller.socket.active_requests', { 'tierkv.controller.socket': 'pull' })).to.equal(0);
    expect(valueOf(rm, 'tierkv.controller.seq.discontinuities')).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.frames.dropped', { 'tierkv.controller.socket': 'pull', 'tierkv.controller.drop.reason': 'unknown_type' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.kv.operations', { 'tierkv.kv.operation': 'admit', 'tierkv.kv.result': 'applied' })).to.equal(4);
    expect(valueOf(rm, 'tierkv.controller.full_sync.requested', { 'tierkv.full_sync.reason': 'sequence_gap' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.full_sync.progress')).to.equal(0);
    expect(valueOf(rm, 'tierkv.controller.lookup.duration')).to.equal(1);
    expect(valueOf(rm, 'tierkv.controller.message.duration', { 'tierkv.controller.socket': 'pull', 'tierkv.controller.message.type': 'kv_batch' })).to.equal(2);
    expect(valueOf(rm, 'tierkv.controller.kv_pool.memory')).to.be.greaterThan(0);
  });

  it('refuses a second start and a start after close', async () => {
    let err: unknown;
    await controller.start().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(Error);
    await controller.close();
    err = undefined;
    await controller.start().catch((e: unknown) => (err = e));
    expect(err).to.have.property('code', 'ERR_CLOSED');
  });
});

describe('ControllerClient', () => {
  it('looks up holders and lists workers over the ROUTER socket', async () => {
    const { ControllerClient } = await import('../../src/client/controller-client.js');
    const controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: false });
    const addr = await controller.start();
    const d = new zmq.Dealer({ linger: 0, receiveTimeout: 3000 });
    const p = new zmq.Push({ linger: 0 });
    const client = new ControllerClient({ router: addr.router, timeoutMs: 2000 });
    try {
      d.connect(addr.router);
      p.connect(addr.pull);
      await d.send(['', encodeMessage({ t: 'register', instanceId: 'i1', workerId: 3, version: 1, seqs: {}, keyCount: 0 })]);
      await d.receive();
      await p.send(encodeMessage(admits('i1', 0, [1, 2], 3)));
      await waitFor(() => controller.poolUsage().keys === 2, 'events');
      expect(await client.lookup({ hashes: [hashOf(1), hashOf(2), hashOf(3)] }, { modelName: 'm' })).to.deep.equal([
        { instanceId: 'i1', workerId: 3, chunks: 2, tokens: 512, locations: { l1: 2 } },
      ]);
      // Binary hashes give the same answer: bytes (sent as they are) and 64-bit values.
      const expected = await client.lookup({ hashes: [hashOf(1), hashOf(2), hashOf(3)] }, { modelName: 'm' });
      expect(await client.lookup({ hashes: hashesToBytes([hashOf(1), hashOf(2), hashOf(3)]) }, { modelName: 'm' })).to.deep.equal(expected);
      expect(await client.lookup({ hashes: BigUint64Array.of(1n, 2n, 3n) }, { modelName: 'm' })).to.deep.equal(expected);
      expect(controller.lookup({ hashes: BigUint64Array.of(1n, 2n) }, { modelName: 'm' })).to.deep.equal(expected);
      let bad: unknown;
      await client.lookup({ hashes: new Uint8Array(7) }, { modelName: 'm' }).catch((e: unknown) => (bad = e));
      expect(bad).to.have.property('code', 'ERR_INVALID_ARGUMENT');
      expect(() => controller.lookup({ hashes: new Uint8Array(9) }, { modelName: 'm' })).to.throw(InvalidArgumentError, /9 bytes/);
      expect((await client.workers()).map((w) => [w.instanceId, w.workerId, w.keys])).to.deep.equal([['i1', 3, 2]]);
      let err: unknown;
      await client.lookup({ hashes: [] }, { modelName: '' }).catch((e: unknown) => (err = e));
      expect(err).to.have.property('code', 'ERR_PROTOCOL');
    } finally {
      client.close();
      d.close();
      p.close();
      await controller.close();
    }
  });
});
