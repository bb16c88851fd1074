import { expect } from 'chai';
import { ClosedError, InvalidArgumentError, TimeoutError } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { Router } from 'zeromq';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { decodePrelude, encodeErrorReply, encodeReply } from '../../src/protocol/codec.js';
import { testKey } from '../helpers/keys.js';
import { LAYOUT, ServerFixture } from '../helpers/server-fixture.js';

/** A ROUTER that answers as `reply` says (or not at all): a fake server that misbehaves on cue. */
async function fakeServer(reply: (id: number, n: number) => Uint8Array[] | undefined): Promise<{ endpoint: string; identities: string[]; close(): void }> {
  const router = new Router({ linger: 0, handover: true });
  await router.bind('tcp://127.0.0.1:*');
  const identities: string[] = [];
  let n = 0;
  void (async () => {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await router.receive();
      } catch {
        return;
      }
      identities.push(frames[0]!.toString());
      const out = reply(decodePrelude(frames[1]).id, n++);
      if (out) await router.send([frames[0]!, ...out]);
    }
  })();
  return { endpoint: router.lastEndpoint!, identities, close: () => router.close() };
}

describe('client/TierkvClient', function () {
  this.timeout(10_000);
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('times out with a TimeoutError naming the option, then reconnects with the same identity', async () => {
    const fake = await fakeServer((id, n) => (n === 0 ? undefined : encodeReply(id, { ok: true, version: 'fake', uptimeMs: 1 })));
    closers.push(() => fake.close());
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    closers.push(shutdown);
    const c = new TierkvClient({ endpoint: fake.endpoint, timeoutMs: 150, meterProvider });
    closers.push(() => c.close());
    const err = await c.ping().then(
      () => expect.fail('expected a timeout'),
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err.message).to.match(/ping request to tcp:\/\/127\.0\.0\.1:\d+ timed out after 150 ms.*timeoutMs/);
    expect((await c.ping({ timeoutMs: 2_000 })).version).to.equal('fake');
    expect(new Set(fake.identities)).to.deep.equal(new Set([c.clientId]));
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.client.reconnects')).to.equal(1);
    expect(valueOf(rm, 'tierkv.client.requests', { 'tierkv.request.type': 'ping', 'tierkv.request.outcome': 'timeout' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.client.requests', { 'tierkv.request.type': 'ping', 'tierkv.request.outcome': 'ok' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.client.request.duration', { 'tierkv.request.type': 'ping' })).to.equal(2);
  });

  it('maps error codes to typed errors', async () => {
    const fake = await fakeServer((id, n) =>
      n === 0 ? encodeErrorReply(id, 'BAD_REQUEST', 'keys[0] is bad', 'keys[0]') : encodeErrorReply(id, 'INTERNAL', 'disk on fire'),
    );
    closers.push(() => fake.close());
    const c = new TierkvClient({ endpoint: fake.endpoint, timeoutMs: 2_000 });
    closers.push(() => c.close());
    const bad = await c.lookup([testKey(1)], { layout: LAYOUT }).catch((e: Error) => e);
    expect(bad).to.be.instanceOf(InvalidArgumentError);
    expect(bad).to.have.property('serverCode', 'BAD_REQUEST');
    expect(bad).to.have.property('argument', 'keys[0]');
    const internal = await c.ping().catch((e: Error) => e);
    expect(internal).to.have.property('code', 'ERR_INTERNAL');
    expect(internal).to.have.property('serverCode', 'INTERNAL');
    expect(c.inFlight).to.equal(0);
  });

  it('needs a layout for chunk calls and fails pending calls on close', async () => {
    const fake = await fakeServer(() => undefined);
    closers.push(() => fake.close());
    const c = new TierkvClient({ endpoint: fake.endpoint, timeoutMs: 5_000 });
    await c.retrieve([testKey(1)]).then(
      () => expect.fail('expected an error'),
      (e: Error) => expect(e).to.be.instanceOf(InvalidArgumentError).and.match(/layout/),
    );
    await c.lookup({ tokens: [1, -1], scope: { modelName: 'm' } }, { layout: LAYOUT }).then(
      () => expect.fail('expected an error'),
      (e: Error) => expect(e).to.be.instanceOf(InvalidArgumentError).and.match(/token 1 is -1/),
    );
    await c.store([null as never], [new Uint8Array(4096)], { layout: LAYOUT }).then(
      () => expect.fail('expected an error'),
      (e: Error) => expect(e).to.be.instanceOf(InvalidArgumentError).and.match(/keys\[0\]/),
    );
    const pending = c.ping();
    c.close();
    await pending.then(
      () => expect.fail('expected ClosedError'),
      (e: Error) => expect(e).to.be.instanceOf(ClosedError),
    );
    await c.ping().catch((e: Error) => expect(e).to.be.instanceOf(ClosedError));
  });

  it('rejects bad options naming the field', () => {
    expect(() => new TierkvClient({ endpoint: 'localhost:5555' })).to.throw(/client\.endpoint/);
    expect(() => new TierkvClient({ timeoutMs: 0 })).to.throw(/client\.timeoutMs/);
  });

  it('runs many calls concurrently on one socket and counts bytes', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    closers.push(shutdown);
    const fx = await new ServerFixture().start();
    closers.push(() => fx.close());
    const c = fx.client({ meterProvider });
    const keys = Array.from({ length: 64 }, (_, i) => testKey(i));
    await Promise.all(keys.map((k, i) => c.store([k], [new Uint8Array(LAYOUT.byteSize).fill(i)])));
    const got = await Promise.all(keys.map((k) => c.retrieve([k])));
    got.forEach((g, i) => expect(g.chunks[0]![LAYOUT.byteSize - 1]).to.equal(i));
    const rm = await collect();
    expect(valueOf(rm, 'tierkv.client.sent')).to.be.greaterThan(64 * LAYOUT.byteSize);
    expect(valueOf(rm, 'tierkv.client.received')).to.be.greaterThan(64 * LAYOUT.byteSize);
    expect(valueOf(rm, 'tierkv.client.requests', { 'tierkv.request.outcome': 'ok' })).to.equal(128);
  });
});
