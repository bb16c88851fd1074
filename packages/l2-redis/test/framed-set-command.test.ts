import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { RedisL2Adapter, VALUE_HEADER_BYTES } from '@tierkv/l2-redis';
import { selectXxh3, type Xxh3Hasher } from '@tierkv/storage';
import { createTestMeterProvider, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';
import { FramedSetCommand, type FramedSetMode } from '../src/framed-set-command.js';
import { encodeHeader, keyChecksum } from '../src/value-header.js';

const MODES: readonly FramedSetMode[] = ['socket', 'copy'];
const bytes = (size: number, seed: number): Buffer => Buffer.from(new Uint8Array(size).map((_, i) => (i * 131 + seed * 17) & 255));

/** `SET key value [EX ttl]` as RESP, built here from the protocol, independent of the command. */
function resp(key: string, value: Buffer, ttl = 0): Buffer {
  const args = [Buffer.from('SET'), Buffer.from(key), value, ...(ttl > 0 ? [Buffer.from('EX'), Buffer.from(String(ttl))] : [])];
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')])]);
}

/** A socket stand-in that records what is written and whether it is corked. */
class RecordingSocket {
  readonly chunks: Uint8Array[] = [];
  corked = 0;
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

describe('FramedSetCommand', function () {
  let hasher: Xxh3Hasher;
  before(async () => {
    hasher = await selectXxh3();
  });

  const header = (payload: Uint8Array) => encodeHeader(payload, keyChecksum('k'), 'xxh3', hasher);

  for (const mode of MODES) {
    it(`'${mode}' puts exactly SET key (header ‖ payload) [EX ttl] on the wire, with ioredis' keyPrefix`, () => {
      for (const [size, ttl, prefix] of [[0, 0, undefined], [1, 30, 'pre:'], [70_001, 0, 'pre:'], [256 * 1024, 86_400, undefined]] as const) {
        const payload = bytes(size, size);
        const h = header(payload);
        const command = new FramedSetCommand('tierkv:key', h, payload, ttl, mode, prefix);
        const socket = new RecordingSocket();
        const tail = command.toWritable(socket);
        const wire = Buffer.concat([...socket.chunks, tail]);
        expect(Buffer.compare(wire, resp(`${prefix ?? ''}tierkv:key`, Buffer.concat([h, payload]), ttl)), `size ${size}, ttl ${ttl}`).to.equal(0);
      }
    });
  }

  it("'socket' hands the caller's payload itself to the socket, corked until the next tick", async () => {
    const payload = new Uint8Array(new ArrayBuffer(4096 + 100), 100, 4096).fill(7);
    const socket = new RecordingSocket();
    new FramedSetCommand('k', header(payload), payload, 0, 'socket').toWritable(socket);
    const written = socket.chunks.find((c) => c.byteLength === payload.byteLength)!;
    expect([written.buffer === payload.buffer, written.byteOffset], 'the same memory, not a copy').to.deep.equal([true, 100]);
    expect(socket.corked).to.equal(1);
    await new Promise((r) => process.nextTick(r));
    expect(socket.corked).to.equal(0);
  });

  it("'copy' takes the payload at construction: later changes to the caller's memory do not reach the wire", () => {
    const payload = bytes(1000, 3);
    const h = header(payload);
    const command = new FramedSetCommand('k', h, payload, 0, 'copy');
    const expected = resp('k', Buffer.concat([h, payload]));
    payload.fill(0);
    const socket = new RecordingSocket();
    expect(Buffer.compare(command.toWritable(socket), expected)).to.equal(0);
    expect(socket.chunks, 'one buffer, returned to ioredis').to.deep.equal([]);
  });
});

describe('FramedSetCommand and the store path (real redis-server)', function () {
  this.timeout(20_000);
  let server: RedisServer;
  let client: Redis;
  let prefixed: Redis;
  let hasher: Xxh3Hasher;

  before(async function () {
    requireRedisServer(this);
    server = await RedisServer.start();
    client = new Redis(server.url);
    prefixed = new Redis(server.url, { keyPrefix: 'pfx:' });
    hasher = await selectXxh3();
  });

  after(async () => {
    client?.disconnect();
    prefixed?.disconnect();
    await server?.stop();
  });

  it('SETs of both modes written in one tick, between other commands, land byte for byte (values larger than the socket buffer too)', async () => {
    await client.set('plain:before', 'b');
    const sizes = [0, 1, 70_001, 3 * 1024 * 1024, 256 * 1024];
    const values = sizes.map((size, i) => {
      const payload = bytes(size, i + 1);
      return { key: `framed:${i}`, payload, header: encodeHeader(payload, keyChecksum(`framed:${i}`), 'xxh3', hasher), ttl: i % 2 ? 60 : 0 };
    });
    // One tick: each SET is followed by an ordinary command whose reply must still match it.
    const replies: Promise<unknown>[] = [];
    values.forEach((v, i) => {
      const mode = MODES[i % 2]!;
      replies.push(client.sendCommand(new FramedSetCommand(v.key, v.header, v.payload, v.ttl, mode)) as Promise<unknown>);
      replies.push(client.get('plain:before'));
      replies.push(prefixed.sendCommand(new FramedSetCommand(v.key, v.header, v.payload, v.ttl, mode, 'pfx:')) as Promise<unknown>);
    });
    const settled = await Promise.all(replies);
    for (let i = 0; i < values.length; i++) expect(settled.slice(3 * i, 3 * i + 3).map(String)).to.deep.equal(['OK', 'b', 'OK']);
    for (const v of values) {
      const expected = Buffer.concat([v.header, v.payload]);
      for (const stored of [await client.getBuffer(v.key), await client.getBuffer(`pfx:${v.key}`)]) {
        expect(stored!.length, v.key).to.equal(expected.length);
        expect(Buffer.compare(stored!, expected), v.key).to.equal(0);
      }
      const ttl = await client.ttl(v.key);
      if (v.ttl > 0) expect(ttl).to.be.within(1, v.ttl);
      else expect(ttl).to.equal(-1);
    }
  });

  describe('a payload changed by its owner before the socket has sent it', () => {
    let tmp: TestMeterProvider;
    const adapters: RedisL2Adapter[] = [];
    let seq = 0;
    const key = (): ObjectKey => objectKey((++seq).toString(16).padStart(16, '0'), 'store-path');

    beforeEach(() => {
      tmp = createTestMeterProvider();
    });
    afterEach(async () => {
      await Promise.all(adapters.splice(0).map((a) => a.close()));
      await tmp.shutdown();
    });

    async function adapter(checksum: 'xxh3' | 'none', directLoad = true): Promise<RedisL2Adapter> {
      const a = new RedisL2Adapter({ url: server.url, keyPrefix: `path-${checksum}:`, checksum, name: `path-${checksum}`, directLoad }, { meterProvider: tmp.meterProvider });
      adapters.push(a);
      expect(await a.ready()).to.equal(true);
      // A first store waits for the hasher if it is still compiling; from then on store() issues its
      // commands before it returns, which the tests below rely on.
      expect(await a.store([{ key: key(), layout: MemoryLayout.bytes(1), data: new Uint8Array(1) }])).to.deep.equal([true]);
      return a;
    }

    // What happens when a store's deadline passes and the caller reuses the memory while the bytes
    // are still queued: here the change comes right after store() is called, before the corked
    // write leaves, so the bytes Redis gets are not the ones that were hashed.
    for (const directLoad of [true, false]) {
      const holds = directLoad ? 'zeroed (read in, then refused)' : 'untouched';
      it(`with XXH3 is stored (uncopied) but never loads as data: a checksum miss, the target ${holds} (${directLoad ? 'direct' : 'ioredis'} load path)`, async () => {
        const a = await adapter('xxh3', directLoad);
        const k = key();
        const data = bytes(512 * 1024, 9);
        const stored = a.store([{ key: k, layout: MemoryLayout.bytes(data.length), data }]);
        data.fill(0x5a);
        expect(await stored).to.deep.equal([true]);
        const target = new Uint8Array(data.length).fill(1);
        expect(await a.load([k], [target])).to.deep.equal([false]);
        const fill = directLoad ? 0 : 1;
        expect(target.every((b) => b === fill), `target ${holds}`).to.equal(true);
        expect(valueOf(await tmp.collect(), 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'checksum' })).to.equal(1);
      });
    }

    it("with checksum 'none' is copied when the store is issued: the load returns the bytes as they were", async () => {
      const a = await adapter('none');
      const k = key();
      const data = bytes(512 * 1024, 10);
      const original = Buffer.from(data);
      const stored = a.store([{ key: k, layout: MemoryLayout.bytes(data.length), data }]);
      data.fill(0x5a);
      expect(await stored).to.deep.equal([true]);
      const target = new Uint8Array(data.length);
      expect(await a.load([k], [target])).to.deep.equal([true]);
      expect(Buffer.compare(target, original)).to.equal(0);
      expect((await client.getBuffer(a.redisKey(k)))!.length).to.equal(VALUE_HEADER_BYTES + data.length);
    });
  });
});
