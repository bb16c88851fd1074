import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import * as zmq from 'zeromq';
import { ConfigError } from '@tierkv/core';
import { waitFor } from '@tierkv/test-utils';
import { ControllerClient } from '../../src/client/controller-client.js';
import { CacheController } from '../../src/controller/cache-controller.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import { WorkerClient } from '../../src/worker-client/worker-client.js';
import { FakeStorage, keysOf } from '../helpers/fake-storage.js';
import { batch } from '../helpers/messages.js';

const TOKEN = 'b3f9c1d2e4a5968778695a4b3c2d1e0f';

// Issue 15: with --token set, anyone could query and deregister workers over the ROUTER and
// forge kv_batch events on PULL. Now the token is a CURVE credential on every socket.
describe('CacheController with an authToken: credentials on every ZeroMQ path', () => {
  let controller: CacheController;
  const open: { close(): unknown }[] = [];

  beforeEach(async () => {
    controller = new CacheController({ pullPort: 0, routerPort: 0, heartbeatPort: 0, httpPort: false, authToken: TOKEN });
    await controller.start();
  });

  afterEach(async () => {
    for (const o of open.splice(0).reverse()) await o.close();
    await controller.close();
  });

  it('a worker and a router client with the token work as without one', async () => {
    const storage = new FakeStorage();
    const worker = new WorkerClient({ controller: controller.addresses, instanceId: 'good', heartbeatIntervalMs: 40, requestTimeoutMs: 2_000, flushIntervalMs: 5, authToken: TOKEN });
    open.push(worker);
    await worker.start(storage);
    storage.write(keysOf([1, 2, 3]));
    await waitFor(() => controller.dumpKeys().get('good/0')?.get('l1')?.size === 3, 'the events to arrive over CURVE');
    const client = new ControllerClient({ router: controller.addresses.router, authToken: TOKEN });
    open.push(client);
    expect((await client.workers()).map((w) => w.instanceId)).to.deep.equal(['good']);
    for (const socket of ['pull', 'router', 'heartbeat'] as const) expect(controller.stats.connectionsClosed[socket].handshake_failed, socket).to.equal(0);
  });

  it('a peer without the token gets no answer, forges no event, deregisters no one; each attempt is counted', async () => {
    const storage = new FakeStorage();
    const worker = new WorkerClient({ controller: controller.addresses, instanceId: 'good', heartbeatIntervalMs: 40, requestTimeoutMs: 2_000, flushIntervalMs: 5, authToken: TOKEN });
    open.push(worker);
    await worker.start(storage);
    storage.write(keysOf([1]));
    await waitFor(() => controller.dumpKeys().get('good/0')?.get('l1')?.size === 1, 'the real worker to be known');

    // No token, and a wrong token: requests go unanswered.
    for (const authToken of [undefined, 'not-the-token']) {
      const client = new ControllerClient({ router: controller.addresses.router, timeoutMs: 300, ...(authToken ? { authToken } : {}) });
      open.push(client);
      let answered = true;
      await client.workers().catch(() => (answered = false));
      expect(answered, `query_workers with token ${String(authToken)}`).to.equal(false);
    }
    const dealer = new zmq.Dealer({ linger: 0, sendTimeout: 300 });
    open.push(dealer);
    dealer.connect(controller.addresses.router);
    await dealer.send(['', encodeMessage({ t: 'deregister', instanceId: 'good', workerId: 0 })]).catch(() => undefined);
    // A forged batch crediting the real worker with 50 chunks it never stored.
    const push = new zmq.Push({ linger: 0, sendTimeout: 300 });
    open.push(push);
    push.connect(controller.addresses.pull);
    await push.send(encodeMessage(batch('good', 1_000, Array(50).fill('+'), Array.from({ length: 50 }, (_, i) => 100 + i)))).catch(() => undefined);

    const refused = controller.stats.connectionsClosed;
    await waitFor(() => refused.router.handshake_failed >= 3 && refused.pull.handshake_failed >= 1, 'the refused handshakes to be counted');
    expect(controller.stats.droppedCount(), 'frames of peers without the token that reached a loop').to.equal(0);
    expect(controller.dumpKeys().get('good/0')?.get('l1')?.size, 'the forged batch credited nothing').to.equal(1);
    expect(controller.dumpKeys().has('good/0'), 'the worker is still registered').to.equal(true);
  });

  it('raw TCP garbage (a ZMTP 1.0 peer has no handshake) is disconnected and never reaches the receive loops', async () => {
    const port = Number(controller.addresses.pull.split(':').pop());
    let closedByServer = 0;
    const sockets: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      s.resume(); // read (and discard) the greeting, so the server's close is seen
      // A ZMTP 1.0 identity frame and a message frame: without a security mechanism libzmq takes these.
      s.write(Buffer.from([0x05, 0x00, 0x41, 0x42, 0x43, 0x44, 0x02, 0x00, 0x58]));
      sockets.push(s);
    }
    await waitFor(() => closedByServer === 50, 'the controller to drop every garbage connection').catch((err: Error) => {
      throw new Error(`${err.message}: ${closedByServer} of 50 closed`);
    });
    expect(controller.stats.received.pull).to.equal(0);
    expect(controller.stats.droppedCount('pull')).to.equal(0);
  });

  it('refuses an empty token naming the option', () => {
    expect(() => new CacheController({ authToken: '' })).to.throw(ConfigError, /controller\.authToken/);
    expect(() => new ControllerClient({ router: 'tcp://127.0.0.1:1', authToken: '' })).to.throw(ConfigError, /controllerClient\.authToken/);
  });
});
