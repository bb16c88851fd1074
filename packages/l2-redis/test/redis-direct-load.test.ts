import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MemoryLayout, encodeKey, objectKey, type ObjectKey } from '@tierkv/core';
import { selectXxh3 } from '@tierkv/storage';
import { registerL2AdapterSuite } from '@tierkv/storage/testing';
import { RedisL2Adapter, type RedisL2Options } from '@tierkv/l2-redis';
import { createTestMeterProvider, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';
import { encodeHeader, encodeValue, keyChecksum } from '../src/value-header.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let seq = 0;
const key = (): ObjectKey => objectKey((++seq).toString(16).padStart(16, '0'), 'direct');

function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 131 + seed * 7 + (i >>> 9)) & 255;
  return out;
}

const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });

/**
 * A fake Redis over node:net: answers each GET with `reply(key, n)` (the n-th GET of the server),
 * which may send part of a reply and keep the rest for later.
 */
class FakeRedis {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  /** The connections that sent GETs (the adapter's ioredis client connects too, and is left waiting). */
  readonly getters = new Set<Socket>();
  gets = 0;
  constructor(reply: (socket: Socket, rkey: string, n: number) => void) {
    this.server = createServer((socket) => {
      this.sockets.push(socket);
      let pending = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        pending += d.toString('latin1');
        for (;;) {
          const m = /^\*2\r\n\$3\r\nGET\r\n\$(\d+)\r\n/.exec(pending);
          if (!m) return;
          const end = m[0].length + Number(m[1]) + 2;
          if (pending.length < end) return;
          const rkey = pending.slice(m[0].length, end - 2);
          pending = pending.slice(end);
          this.getters.add(socket);
          reply(socket, rkey, this.gets++);
        }
      });
    });
  }
  listen(): Promise<string> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(`redis://127.0.0.1:${(this.server.address() as { port: number }).port}`)));
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('RedisL2Adapter direct load path (real redis-server)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  let raw: Redis;
  let tmp: TestMeterProvider;
  const adapters: RedisL2Adapter[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];

  before(async function () {
    requireRedisServer(this);
    server = await RedisServer.start();
    raw = new Redis(server.url);
  });
  after(async () => {
    raw?.disconnect();
    await server?.stop();
  });
  beforeEach(() => {
    tmp = createTestMeterProvider();
  });
  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
    for (const c of cleanup.splice(0)) await c();
    await tmp.shutdown();
  });

  async function adapter(options: RedisL2Options = {}, ready = true): Promise<RedisL2Adapter> {
    const a = new RedisL2Adapter({ url: server.url, keyPrefix: `d${++seq}:`, ...options }, { meterProvider: tmp.meterProvider });
    adapters.push(a);
    if (ready) expect(await a.ready()).to.equal(true);
    return a;
  }

  // The contract suite runs on the default (direct) path in redis-adapter.test.ts; here on ioredis'.
  registerL2AdapterSuite('RedisL2Adapter, single node, loads through ioredis (directLoad: false)', async () => {
    const a = new RedisL2Adapter({ url: server.url, keyPrefix: `io${++seq}:`, directLoad: false });
    await a.ready();
    return a;
  });

  it('loads byte for byte at many sizes in one batch, absent keys among them, concurrent calls too', async () => {
    const a = await adapter();
    expect(a.loadPath).to.deep.equal({ path: 'direct' });
    const sizes = [1, 100, 16 * KiB - 1, 16 * KiB, 64 * KiB + 7, 256 * KiB, MiB, 8 * MiB + 3];
    const keys = sizes.map(() => key());
    const data = sizes.map((s, i) => bytes(s, i));
    expect(await a.store(keys.map((k, i) => item(k, data[i]!)))).to.deep.equal(sizes.map(() => true));
    const absent = key();
    const batch = [...keys.slice(0, 4), absent, ...keys.slice(4)];
    const sizesOf = [...sizes.slice(0, 4), 10, ...sizes.slice(4)];
    for (let round = 0; round < 3; round++) {
      const calls = [0, 1].map(async () => {
        const targets = sizesOf.map((s) => new Uint8Array(s).fill(0xcc));
        const ok = await a.load(batch, targets);
        return { ok, targets };
      });
      for (const { ok, targets } of await Promise.all(calls)) {
        expect(ok).to.deep.equal(batch.map((k) => k !== absent));
        keys.forEach((_, i) => expect(Buffer.compare(targets[i < 4 ? i : i + 1]!, data[i]!), `size ${sizes[i]}`).to.equal(0));
        expect(targets[4]!.every((b) => b === 0xcc), 'an absent key leaves its target alone').to.equal(true);
      }
    }
  });

  it('refuses damaged values by reason, never leaves their bytes in the target, and stays in step for the next key', async () => {
    const a = await adapter();
    const hasher = await selectXxh3();
    const size = 300 * KiB;
    const [flipped, short, foreign, badMagic, good, wrongSize] = [key(), key(), key(), key(), key(), key()];
    const data = bytes(size, 5);
    const valueOf_ = (k: ObjectKey) => encodeValue(data, keyChecksum(encodeKey(k)), 'xxh3', hasher, 0);
    const v1 = valueOf_(flipped);
    v1[32 + 123_456]! ^= 1;
    await raw.set(a.redisKey(flipped), v1);
    await raw.set(a.redisKey(short), valueOf_(short).subarray(0, 32 + size - 1));
    await raw.set(a.redisKey(foreign), valueOf_(good)); // another key's value
    const v4 = valueOf_(badMagic);
    v4[0] = 0;
    await raw.set(a.redisKey(badMagic), v4);
    await raw.set(a.redisKey(good), valueOf_(good));
    await raw.set(a.redisKey(wrongSize), valueOf_(wrongSize));
    const keys = [flipped, short, foreign, badMagic, good, wrongSize];
    const targets = keys.map((k) => new Uint8Array(k === wrongSize ? size + 1 : size).fill(0x11));
    expect(await a.load(keys, targets)).to.deep.equal([false, false, false, false, true, false]);
    expect(targets[0]!.every((b) => b === 0), 'a payload failing its checksum is zeroed').to.equal(true);
    for (const i of [1, 2, 3, 5]) expect(targets[i]!.every((b) => b === 0x11), `target ${i} refused on its header: untouched`).to.equal(true);
    expect(Buffer.compare(targets[4]!, data)).to.equal(0);
    const rm = await tmp.collect();
    const corrupt = (reason: string) => valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': reason });
    expect([corrupt('checksum'), corrupt('truncated'), corrupt('key_mismatch'), corrupt('bad_header'), corrupt('size_mismatch')]).to.deep.equal([1, 1, 1, 1, 1]);
    expect(await raw.exists(a.redisKey(flipped)), 'a damaged value is removed').to.equal(0);
    expect(await raw.exists(a.redisKey(wrongSize)), 'an intact value of another size stays').to.equal(1);
  });

  it('answers a server error per key (WRONGTYPE) without failing the rest or the breaker', async () => {
    const a = await adapter();
    const [list, good] = [key(), key()];
    await raw.rpush(a.redisKey(list), 'x');
    await a.store([item(good, bytes(1000, 1))]);
    const t = new Uint8Array(1000);
    expect(await a.load([list, good], [new Uint8Array(10), t])).to.deep.equal([false, true]);
    expect(Buffer.compare(t, bytes(1000, 1))).to.equal(0);
    expect(valueOf(await tmp.collect(), 'db.client.operation.duration', { 'error.type': 'server' })).to.equal(1);
    expect(a.breakerState).to.equal('closed');
  });

  it("uses ioredis' AUTH (password, ACL user), db and keyPrefix on its own connection", async () => {
    const secured = await RedisServer.start();
    cleanup.push(() => secured.stop());
    const admin = new Redis(secured.url);
    await admin.call('ACL', 'SETUSER', 'alice', 'on', '>wonder', '~*', '+@all');
    await admin.call('CONFIG', 'SET', 'requirepass', 'sekret');
    admin.disconnect();
    const check = new Redis(secured.url, { password: 'sekret', db: 3 });
    cleanup.push(() => check.disconnect());
    for (const url of [`redis://:sekret@127.0.0.1:${secured.port}/3`, `redis://alice:wonder@127.0.0.1:${secured.port}/3`]) {
      const a = await adapter({ url, redis: { keyPrefix: 'app:' } });
      expect(a.loadPath.path).to.equal('direct');
      const k = key();
      const data = bytes(200 * KiB, 3);
      expect(await a.store([item(k, data)])).to.deep.equal([true]);
      expect(await check.exists(`app:${a.redisKey(k)}`), 'stored in db 3 under the client keyPrefix').to.equal(1);
      const t = new Uint8Array(data.length);
      expect(await a.load([k], [t])).to.deep.equal([true]);
      expect(Buffer.compare(t, data)).to.equal(0);
    }
    const wrong = await adapter({ url: `redis://:nope@127.0.0.1:${secured.port}`, operationTimeoutMs: 1000 }, false);
    expect(await wrong.load([key()], [new Uint8Array(10)])).to.deep.equal([false]);
    expect(valueOf(await tmp.collect(), 'db.client.operation.duration', { 'db.operation.name': 'GET', 'error.type': 'connection' })).to.equal(1);
  });

  it('connects over a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierkv-redis-'));
    const path = join(dir, 'redis.sock');
    const s = await RedisServer.start({ args: ['--unixsocket', path, '--unixsocketperm', '700'] });
    cleanup.push(async () => {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const a = await adapter({ url: path });
    expect(a.loadPath.path).to.equal('direct');
    const k = key();
    await a.store([item(k, bytes(70 * KiB, 4))]);
    const t = new Uint8Array(70 * KiB);
    expect(await a.load([k], [t])).to.deep.equal([true]);
    expect(Buffer.compare(t, bytes(70 * KiB, 4))).to.equal(0);
  });

  it('opens a new connection after the server dropped its own', async () => {
    const a = await adapter();
    const k = key();
    await a.store([item(k, bytes(64 * KiB, 6))]);
    const t = new Uint8Array(64 * KiB);
    expect(await a.load([k], [t])).to.deep.equal([true]);
    const killed = Number(await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
    expect(killed, 'the load connection (and the ioredis one) dropped').to.be.at.least(2);
    await waitFor(async () => (await a.load([k], [t.fill(0)]))[0], 'a load after the drop to succeed', 10_000, 50);
    expect(Buffer.compare(t, bytes(64 * KiB, 6))).to.equal(0);
  });

  it('at a deadline mid-reply destroys the socket before settling: the target ends zeroed, a late rest writes nothing, the next load reconnects', async () => {
    const hasher = await selectXxh3();
    const size = 512 * KiB;
    const payload = new Uint8Array(size).fill(0x22);
    let rest: (() => void) | undefined;
    const restSent = new Promise<void>((resolve) => (rest = resolve));
    let finishFirst: (() => void) | undefined;
    const fake = new FakeRedis((socket, rkey, n) => {
      const encoded = rkey.slice(rkey.indexOf(':') + 1);
      const value = Buffer.concat([encodeHeader(payload, keyChecksum(encoded), 'xxh3', hasher, 0), payload]);
      const framed = Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
      if (n > 0) return void socket.write(framed);
      // The first GET: half a reply now (header and some payload), a quarter more when the test
      // says (still not the whole value: the reply is left cut off).
      socket.write(framed.subarray(0, framed.length >> 1));
      finishFirst = () => socket.write(framed.subarray(framed.length >> 1, (framed.length * 3) >> 2), () => rest!());
    });
    const url = await fake.listen();
    cleanup.push(() => fake.close());
    const a = await adapter({ url, operationTimeoutMs: 300, keyPrefix: 'f:' }, false);
    const [k1, k2] = [key(), key()];
    const target = new Uint8Array(size).fill(0x11);
    expect(await a.load([k1], [target])).to.deep.equal([false]);
    expect(target.every((b) => b === 0), 'the unverified part read in is zeroed').to.equal(true);
    // More of the first reply arrives after the call settled: it must reach nothing.
    finishFirst!();
    await restSent;
    const t2 = new Uint8Array(size);
    expect(await a.load([k2], [t2]), 'a new connection serves the next load').to.deep.equal([true]);
    expect(fake.getters.size, 'a second load connection').to.equal(2);
    expect(target.every((b) => b === 0), 'nothing written after the call settled').to.equal(true);
    expect(Buffer.compare(t2, payload)).to.equal(0);
    expect(valueOf(await tmp.collect(), 'db.client.operation.duration', { 'error.type': 'timeout' })).to.equal(1);
  });

  it('at a deadline before its replies began, drops them when they come and keeps the connection', async () => {
    const hasher = await selectXxh3();
    const size = 256 * KiB;
    const payload = new Uint8Array(size).fill(0x33);
    const held: (() => void)[] = [];
    const fake = new FakeRedis((socket, rkey, n) => {
      const encoded = rkey.slice(rkey.indexOf(':') + 1);
      const value = Buffer.concat([encodeHeader(payload, keyChecksum(encoded), 'xxh3', hasher, 0), payload]);
      const send = () => socket.write(Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]));
      if (n < 2) held.push(send); // the first two GETs are answered late, when the test says
      else send();
    });
    const url = await fake.listen();
    cleanup.push(() => fake.close());
    const a = await adapter({ url, operationTimeoutMs: 300, keyPrefix: 'h:' }, false);
    const late = [new Uint8Array(size).fill(0x11), new Uint8Array(size).fill(0x11)];
    expect(await Promise.all([a.load([key()], [late[0]!]), a.load([key()], [late[1]!])])).to.deep.equal([[false], [false]]);
    for (const send of held) send();
    const t = new Uint8Array(size);
    expect(await a.load([key()], [t]), 'the same connection serves the next load').to.deep.equal([true]);
    expect(fake.getters.size).to.equal(1);
    expect(Buffer.compare(t, payload)).to.equal(0);
    for (const l of late) expect(l.every((b) => b === 0x11), 'a reply that came after its call settled wrote nothing').to.equal(true);
  });

  it('falls back to ioredis where the direct path cannot serve, and says why', async () => {
    const own = new Redis(server.url, { enableOfflineQueue: false, lazyConnect: true });
    cleanup.push(() => own.disconnect());
    const cases: [RedisL2Options, string][] = [
      [{ directLoad: false }, 'directLoad: false'],
      [{ client: own }, 'a client of your own (client)'],
      [{ url: 'rediss://127.0.0.1:1' }, 'TLS'],
      [{ redis: { tls: {} } }, 'TLS'],
      [{ redis: { sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'mymaster' } }, 'Sentinel'],
      [{ cluster: { nodes: [{ host: '127.0.0.1', port: 1 }] } }, 'a cluster'],
    ];
    for (const [options, reason] of cases) {
      const a = await adapter({ ...options, connectTimeoutMs: 200 }, false);
      expect(a.loadPath, reason).to.deep.equal({ path: 'ioredis', reason });
    }
    // And the fallback loads: byte for byte, refusing a damaged value.
    const a = await adapter({ directLoad: false });
    const [k, bad] = [key(), key()];
    await a.store([item(k, bytes(300 * KiB, 8)), item(bad, bytes(300 * KiB, 9))]);
    const v = (await raw.getBuffer(a.redisKey(bad)))!;
    v[40]! ^= 1;
    await raw.set(a.redisKey(bad), v);
    const targets = [new Uint8Array(300 * KiB), new Uint8Array(300 * KiB).fill(7)];
    expect(await a.load([k, bad], targets)).to.deep.equal([true, false]);
    expect(Buffer.compare(targets[0]!, bytes(300 * KiB, 8))).to.equal(0);
    expect(targets[1]!.every((b) => b === 7), 'the ioredis path never touches a refused target').to.equal(true);
  });
});
