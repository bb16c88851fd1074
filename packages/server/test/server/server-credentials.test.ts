import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import { FakeStorage } from '../helpers/fake-storage.js';
import { patternBytes, testKey } from '../helpers/keys.js';
import { LAYOUT, ServerFixture } from '../helpers/server-fixture.js';

const TOKEN = '4f1e6a0b9c2d7e3f8a5b6c1d0e9f2a3b';

// Issue 15: the storage server's socket had no credential at all. With `authToken` it speaks CURVE
// with a key pair derived from the token: a peer without it cannot complete the handshake.
describe('server/TierkvServer with an authToken', function () {
  this.timeout(20_000);
  let fx: ServerFixture;
  let telemetry: TestMeterProvider;

  beforeEach(async () => {
    telemetry = createTestMeterProvider();
    fx = await new ServerFixture().start({ authToken: TOKEN }, telemetry.meterProvider);
  });

  afterEach(async () => {
    await fx.close();
    await telemetry.shutdown();
  });

  it('serves a client with the token byte for byte', async () => {
    const c = fx.client({ authToken: TOKEN });
    const keys = [0, 1, 2].map((i) => testKey(i));
    const data = keys.map((_, i) => patternBytes(i, LAYOUT.byteSize));
    expect((await c.store(keys, data)).stored).to.deep.equal([true, true, true]);
    const got = await c.retrieve(keys);
    got.chunks.forEach((chunk, i) => expect(Buffer.from(chunk).equals(Buffer.from(data[i]!))).to.equal(true));
  });

  it('a client without the token, or with a wrong one, reaches nothing; each attempt is counted', async () => {
    for (const options of [{}, { authToken: 'wrong-token' }]) {
      const c = fx.client({ ...options, timeoutMs: 300, reconnectOnTimeout: false });
      let stored: unknown;
      await c.store([testKey(7)], [patternBytes(7, LAYOUT.byteSize)]).then((r) => (stored = r), () => (stored = 'refused'));
      expect(stored).to.equal('refused');
      c.close();
    }
    await waitFor(async () => (valueOf(await telemetry.collect(), 'tierkv.server.connections.closed', { 'tierkv.close.reason': 'handshake_failed' }) ?? 0) >= 2, 'the refused handshakes to be counted');
    expect(fx.storage.entries.size, 'nothing was stored').to.equal(0);
    const rm = await telemetry.collect();
    expect(valueOf(rm, 'tierkv.server.received') ?? 0, 'bytes that reached the server').to.equal(0);
  });

  it('drops raw TCP garbage without reading it', async () => {
    const port = Number(fx.server.endpoint.split(':').pop());
    let closed = 0;
    const sockets: Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      s.resume();
      s.write(Buffer.from([0x05, 0x00, 0x41, 0x42, 0x43, 0x44, 0x02, 0x00, 0x58]));
      sockets.push(s);
    }
    await waitFor(() => closed === 20, 'the server to drop every garbage connection');
    expect(valueOf(await telemetry.collect(), 'tierkv.server.received') ?? 0).to.equal(0);
  });

  it('refuses an empty token and unknown options, naming them', () => {
    const storage = new FakeStorage().asStorageManager();
    expect(() => new TierkvServer({ storage, authToken: '' })).to.throw(ConfigError, /server\.authToken/);
    expect(() => new TierkvServer({ storage, authTokn: 'x' } as never)).to.throw(ConfigError, /server\.authTokn: unknown option \(did you mean authToken\?\)/);
    expect(() => fx.client({ authToken: '' })).to.throw(ConfigError, /client\.authToken/);
    expect(() => fx.client({ endpont: 'tcp://x:1' } as never)).to.throw(ConfigError, /client\.endpont: unknown option/);
  });
});
