import { expect } from 'chai';
import { crc32 } from 'node:zlib';
import { Redis } from 'ioredis';
import { MemoryLayout, encodeKey, objectKey, type ObjectKey } from '@tierkv/core';
import { RedisL2Adapter, VALUE_HEADER_BYTES, type RedisL2Options } from '@tierkv/l2-redis';
import { XXH3_IMPLEMENTATION_ENV, selectXxh3 } from '@tierkv/storage';
import { createTestMeterProvider, valueOf, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';

let keySeq = 0;
const key = (): ObjectKey => objectKey((++keySeq).toString(16).padStart(16, '0'), 'formats-model');
const bytes = (size: number, seed: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 31 + seed * 7) & 255);
const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });

/**
 * A value exactly as the version-2 code stored it (28-byte header, CRC-32 of the payload, of the
 * encoded key and of the layout JSON), built here byte by byte, independent of today's encoder.
 */
function v2Value(k: ObjectKey, data: Uint8Array): Buffer {
  const h = Buffer.alloc(28);
  h.write('TKVR', 0, 'latin1');
  h[4] = 2;
  h[5] = 0;
  h.writeUInt16BE(28, 6);
  h.writeUInt32BE(0, 8);
  h.writeUInt32BE(data.byteLength, 12);
  h.writeUInt32BE(crc32(data), 16);
  h.writeUInt32BE(crc32(encodeKey(k)), 20);
  h.writeUInt32BE(crc32(JSON.stringify(MemoryLayout.bytes(data.byteLength).toJSON())), 24);
  return Buffer.concat([h, data]);
}

describe('RedisL2Adapter value formats (real redis-server)', function () {
  this.timeout(20_000);
  let server: RedisServer;
  let raw: Redis;
  let tmp: TestMeterProvider;
  const adapters: RedisL2Adapter[] = [];
  const savedEnv = process.env[XXH3_IMPLEMENTATION_ENV];

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
    if (savedEnv === undefined) delete process.env[XXH3_IMPLEMENTATION_ENV];
    else process.env[XXH3_IMPLEMENTATION_ENV] = savedEnv;
    await Promise.all(adapters.splice(0).map((a) => a.close()));
    await tmp.shutdown();
  });

  async function adapter(options: RedisL2Options = {}): Promise<RedisL2Adapter> {
    const a = new RedisL2Adapter({ url: server.url, keyPrefix: 'fmt:', ...options }, { meterProvider: tmp.meterProvider });
    adapters.push(a);
    expect(await a.ready()).to.equal(true);
    return a;
  }

  it('loads version-2 values (CRC-32) written by the previous code, and catches a corrupted one', async () => {
    const a = await adapter();
    const [good, bad] = [key(), key()];
    const [d1, d2] = [bytes(256 * 1024, 1), bytes(256 * 1024, 2)];
    await raw.set(a.redisKey(good), v2Value(good, d1));
    const damaged = v2Value(bad, d2);
    damaged[28 + 200_000]! ^= 0x20;
    await raw.set(a.redisKey(bad), damaged);
    const targets = [new Uint8Array(d1.length), new Uint8Array(d2.length).fill(0xaa)];
    expect(await a.load([good, bad], targets, MemoryLayout.bytes(d1.length))).to.deep.equal([true, false]);
    expect(Buffer.compare(targets[0]!, d1)).to.equal(0);
    // The direct load path reads a payload whose header passed into the target, then zeroes it when
    // its checksum fails: a corrupt value's bytes never stay there.
    expect(targets[1]!.every((b) => b === 0), 'a corrupt value never stays in the target').to.equal(true);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'checksum' })).to.equal(1);
    expect(await raw.exists(a.redisKey(bad)), 'the damaged value is removed').to.equal(0);
  });

  it('writes version 3 with XXH3-64 and catches a flipped byte anywhere in the payload', async () => {
    const a = await adapter();
    const hasher = await selectXxh3();
    const k = key();
    const data = bytes(1024 * 1024, 3);
    await a.store([item(k, data)]);
    const value = (await raw.getBuffer(a.redisKey(k)))!;
    expect([value[4], value[5]], 'version 3, algorithm 2 (XXH3-64)').to.deep.equal([3, 2]);
    expect(Buffer.compare(value.subarray(16, 24), Buffer.from(hasher.digest(data)))).to.equal(0);
    for (const at of [0, 4096, data.length - 1]) {
      const flipped = Buffer.from(value);
      flipped[VALUE_HEADER_BYTES + at]! ^= 0x01;
      await raw.set(a.redisKey(k), flipped);
      const target = new Uint8Array(data.length);
      expect(await a.load([k], [target]), `flip at ${at}`).to.deep.equal([false]);
    }
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'checksum' })).to.equal(3);
  });

  it('the WebAssembly XXH3 fallback (forced) reads what the default wrote and writes what it reads', async () => {
    const native = await adapter();
    process.env[XXH3_IMPLEMENTATION_ENV] = 'wasm';
    const wasm = await adapter();
    const [k1, k2] = [key(), key()];
    const [d1, d2] = [bytes(300_000, 4), bytes(70_001, 5)];
    await native.store([item(k1, d1)]);
    await wasm.store([item(k2, d2)]);
    expect([native.hashImplementation, wasm.hashImplementation]).to.deep.equal(['native', 'wasm']);
    for (const a of [native, wasm]) {
      const t = [new Uint8Array(d1.length), new Uint8Array(d2.length)];
      expect(await a.load([k1, k2], t)).to.deep.equal([true, true]);
      expect(Buffer.compare(t[0]!, d1)).to.equal(0);
      expect(Buffer.compare(t[1]!, d2)).to.equal(0);
    }
    // The same digest bytes either way.
    const [v1, v2] = [(await raw.getBuffer(native.redisKey(k1)))!, (await raw.getBuffer(wasm.redisKey(k1)))!];
    expect(Buffer.compare(v1, v2)).to.equal(0);
    const written = (await raw.getBuffer(wasm.redisKey(k2)))!;
    const flipped = Buffer.from(written);
    flipped[VALUE_HEADER_BYTES + 70_000]! ^= 0x80;
    await raw.set(wasm.redisKey(k2), flipped);
    expect(await wasm.load([k2], [new Uint8Array(d2.length)])).to.deep.equal([false]);
  });
});
