import { expect } from 'chai';
import { metrics } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { ClosedError, MemoryLayout, UnavailableError, objectKey, refreshTelemetryBindings, type ObjectKey } from '@tierkv/core';
import { RedisL2Adapter, VALUE_HEADER_BYTES, redisKeyOf, type RedisL2Options } from '@tierkv/l2-redis';
import { createTestMeterProvider, freePort, valueOf, waitFor, type TestMeterProvider } from '@tierkv/test-utils';
import { RedisServer, requireRedisServer } from '@tierkv/test-utils/redis-server';
import { registerL2AdapterSuite } from '@tierkv/storage/testing';

const MiB = 1024 * 1024;
let keySeq = 0;

function key(model = 'test-model'): ObjectKey {
  return objectKey((++keySeq).toString(16).padStart(16, '0'), model);
}

/** Bytes derived from the key and a seed, so a mix-up between keys shows. */
function payload(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 255;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 255;
    if (i + 3 < size) out[i + 3] = (x >>> 24) & 255;
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function item(k: ObjectKey, data: Uint8Array) {
  return { key: k, layout: MemoryLayout.bytes(data.byteLength), data };
}

describe('RedisL2Adapter (real redis-server)', function () {
  this.timeout(20_000);
  let server: RedisServer;
  let raw: Redis;
  let tmp: TestMeterProvider;
  const adapters: RedisL2Adapter[] = [];
  const extraServers: RedisServer[] = [];
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async function () {
    requireRedisServer(this);
    server = await RedisServer.start();
    raw = new Redis(server.url);
    process.on('unhandledRejection', onUnhandled);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    raw?.disconnect();
    await server?.stop();
  });

  beforeEach(() => {
    tmp = createTestMeterProvider();
    unhandled = [];
  });

  afterEach(async () => {
    await Promise.all(adapters.splice(0).map((a) => a.close()));
    await Promise.all(extraServers.splice(0).map((s) => s.stop()));
    await tmp.shutdown();
    expect(unhandled, 'unhandled rejections').to.deep.equal([]);
  });

  registerL2AdapterSuite('RedisL2Adapter, single node', async () => {
    const a = new RedisL2Adapter({ url: server.url, keyPrefix: `suite${++keySeq}:` });
    await a.ready();
    return a;
  });

  async function adapter(options: RedisL2Options = {}): Promise<RedisL2Adapter> {
    const a = new RedisL2Adapter(
      { url: server.url, keyPrefix: `t${++keySeq}:`, ...options },
      { meterProvider: tmp.meterProvider },
    );
    adapters.push(a);
    if (!options.url) expect(await a.ready()).to.equal(true);
    return a;
  }

  it("redis store deadline (issue 10, item 13): with checksum 'none' a store past its deadline never stores bytes written after it settled", async () => {
    // A Redis of its own, frozen (SIGSTOP): it stops reading, so a 32 MiB SET stays in our socket
    // buffers while the deadline passes.
    const frozen = await RedisServer.start();
    extraServers.push(frozen);
    const prefix = `deadline${++keySeq}:`;
    const a = new RedisL2Adapter({ url: frozen.url, checksum: 'none', operationTimeoutMs: 300, keyPrefix: prefix });
    adapters.push(a);
    expect(await a.ready()).to.equal(true);
    const k = key();
    const data = payload(32 * MiB, 7);
    const original = Buffer.from(data);
    frozen.pause();
    const [ok] = await a.store([{ key: k, layout: MemoryLayout.bytes(data.byteLength), data }]);
    expect(ok).to.equal(false);
    // The caller owns its memory again and reuses it for another key's bytes.
    data.fill(0xee);
    frozen.resume();
    const check = new Redis(frozen.url);
    try {
      // Whatever reached Redis is the original bytes, or nothing.
      const stored = await waitFor(async () => [await check.getBuffer(redisKeyOf(prefix, k))], 'Redis to answer after the freeze', 15_000);
      if (stored[0]) expect(Buffer.compare(stored[0].subarray(stored[0].length - original.length), original), 'stored bytes are the original ones').to.equal(0);
    } finally {
      check.disconnect();
    }
  });

  it('stores and loads 8 MiB values byte for byte, split over several pipelines', async () => {
    const a = await adapter({ maxPipelineBytes: 10 * MiB });
    const keys = [key(), key(), key()];
    const datas = keys.map((_, i) => payload(8 * MiB, i + 1));
    expect(await a.store(keys.map((k, i) => item(k, datas[i]!)))).to.deep.equal([true, true, true]);
    expect(await a.lookupAndLock(keys)).to.deep.equal([true, true, true]);
    const targets = keys.map(() => new Uint8Array(8 * MiB));
    expect(await a.load(keys, targets)).to.deep.equal([true, true, true]);
    targets.forEach((t, i) => expect(Buffer.compare(t, datas[i]!), `value ${i}`).to.equal(0));
    await a.unlock(keys);
    expect(a.usage()).to.deep.equal({ usedBytes: 3 * (8 * MiB + VALUE_HEADER_BYTES), capacityBytes: undefined, objects: 3 });
  });

  it('keeps values binary: the Redis value is the 28-byte header followed by the raw payload', async () => {
    const a = await adapter();
    const k = key();
    const data = payload(1000, 7);
    await a.store([item(k, data)]);
    const value = await raw.getBuffer(a.redisKey(k));
    expect(value!.length).to.equal(VALUE_HEADER_BYTES + 1000);
    expect(value!.subarray(0, 4).toString('latin1')).to.equal('TKVR');
    expect(Buffer.compare(value!.subarray(VALUE_HEADER_BYTES), data)).to.equal(0);
  });

  it("reads values written with checksum: 'none' and with crc32 alike", async () => {
    const prefix = `mixed${++keySeq}:`;
    const plain = await adapter({ keyPrefix: prefix, checksum: 'none' });
    const checked = await adapter({ keyPrefix: prefix });
    const [k1, k2] = [key(), key()];
    await plain.store([item(k1!, payload(5000, 1))]);
    await checked.store([item(k2!, payload(5000, 2))]);
    for (const a of [plain, checked]) {
      const t = [new Uint8Array(5000), new Uint8Array(5000)];
      expect(await a.load([k1!, k2!], t)).to.deep.equal([true, true]);
      expect(Buffer.compare(t[0]!, payload(5000, 1))).to.equal(0);
      expect(Buffer.compare(t[1]!, payload(5000, 2))).to.equal(0);
    }
  });

  it('answers lookups and loads per key in a mixed batch', async () => {
    const a = await adapter();
    const [k1, k2, k3] = [key(), key(), key()];
    await a.store([item(k1!, payload(300, 1)), item(k3!, payload(500, 3))]);
    expect(await a.lookupAndLock([k1!, k2!, k3!])).to.deep.equal([true, false, true]);
    const targets = [new Uint8Array(300), new Uint8Array(400), new Uint8Array(500)];
    expect(await a.load([k1!, k2!, k3!], targets)).to.deep.equal([true, false, true]);
    expect(Buffer.compare(targets[2]!, payload(500, 3))).to.equal(0);
    await a.unlock([k1!, k3!]);
  });

  it('treats a truncated value as a miss and counts it', async () => {
    const a = await adapter();
    const k = key();
    const data = payload(64 * 1024, 9);
    await a.store([item(k, data)]);
    const rkey = a.redisKey(k);
    const full = (await raw.getBuffer(rkey))!;
    await raw.set(rkey, full.subarray(0, full.length - 1000)); // a write cut short
    expect(await a.lookupAndLock([k])).to.deep.equal([true]);
    const target = new Uint8Array(data.length);
    expect(await a.load([k], [target])).to.deep.equal([false]);
    await a.unlock([k]);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'truncated' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.corrupt', { 'tierkv.l2.adapter': 'redis' })).to.equal(1);
    expect(await raw.exists(rkey), 'the damaged value is removed').to.equal(0);
    expect(await a.lookupAndLock([k])).to.deep.equal([false]);
  });

  it('treats a flipped bit, a foreign value and a wrong-sized target as misses, by reason', async () => {
    const a = await adapter();
    const [k1, k2, k3] = [key(), key(), key()];
    await a.store([item(k1!, payload(2048, 1)), item(k3!, payload(2048, 3))]);
    const v1 = (await raw.getBuffer(a.redisKey(k1!)))!;
    v1[VALUE_HEADER_BYTES + 100]! ^= 1;
    await raw.set(a.redisKey(k1!), v1);
    await raw.set(a.redisKey(k2!), 'written by someone else');
    const res = await a.load([k1!, k2!, k3!], [new Uint8Array(2048), new Uint8Array(2048), new Uint8Array(2047)]);
    expect(res).to.deep.equal([false, false, false]);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'checksum' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'bad_header' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.corrupt', { 'tierkv.l2.corrupt.reason': 'size_mismatch' })).to.equal(1);
  });

  it('separates deployments by key prefix; clear() removes only its own unpinned keys', async () => {
    const a = await adapter({ keyPrefix: `depA${keySeq}:` });
    const b = await adapter({ keyPrefix: `depB${keySeq}:` });
    const [k1, k2] = [key(), key()];
    await a.store([item(k1!, payload(100, 1)), item(k2!, payload(100, 2))]);
    expect(await b.lookupAndLock([k1!])).to.deep.equal([false]);
    await b.store([item(k1!, payload(100, 5))]);
    expect(await a.lookupAndLock([k2!])).to.deep.equal([true]); // pinned: survives clear
    expect(await a.clear()).to.equal(1);
    expect(await a.lookupAndLock([k1!, k2!])).to.deep.equal([false, true]);
    await a.unlock([k2!, k2!]);
    expect(await b.lookupAndLock([k1!])).to.deep.equal([true]);
    await b.unlock([k1!]);
  });

  it('keeps a pinned key through delete until the last unlock', async () => {
    const a = await adapter();
    const k = key();
    await a.store([item(k, payload(10, 1))]);
    expect(await a.lookupAndLock([k])).to.deep.equal([true]);
    expect(await a.lookupAndLock([k])).to.deep.equal([true]);
    expect(await a.delete([k])).to.deep.equal([false]);
    await a.unlock([k]);
    expect(await a.delete([k])).to.deep.equal([false]);
    await a.unlock([k]);
    expect(await a.delete([k])).to.deep.equal([true]);
    expect(await a.delete([k])).to.deep.equal([false]);
  });

  it('sets the TTL on store and refreshes it on lookup', async () => {
    const a = await adapter({ ttlSeconds: 600 });
    const k = key();
    await a.store([item(k, payload(10, 1))]);
    const rkey = a.redisKey(k);
    const ttl = await raw.ttl(rkey);
    expect(ttl).to.be.within(1, 600);
    await raw.expire(rkey, 5);
    expect(await a.lookupAndLock([k])).to.deep.equal([true]);
    expect(await raw.ttl(rkey)).to.be.greaterThan(5);
    await a.unlock([k]);
  });

  it('hashes long keys to bounded Redis keys and still finds them', async () => {
    const a = await adapter();
    const k = objectKey('00000000000000aa', 'x'.repeat(1000), 3, '{salt}');
    await a.store([item(k, payload(64, 1))]);
    expect(a.redisKey(k).length).to.be.lessThan(100);
    const t = new Uint8Array(64);
    expect(await a.load([k], [t])).to.deep.equal([true]);
  });

  it('records db.client.operation.duration per pipeline with semconv attributes', async () => {
    const a = await adapter();
    const keys = [key(), key()];
    await a.store(keys.map((k, i) => item(k, payload(10, i))));
    await a.lookupAndLock([keys[0]!]);
    await a.unlock([keys[0]!]);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'db.client.operation.duration', { 'db.system.name': 'redis', 'db.operation.name': 'BATCH SET' })).to.equal(1);
    expect(valueOf(rm, 'db.client.operation.duration', { 'db.system.name': 'redis', 'db.operation.name': 'TOUCH' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.breaker.state', { 'tierkv.breaker.state': 'closed' })).to.equal(1);
  });

  it('exports to a MeterProvider registered after it was created (late binding)', async () => {
    const a = new RedisL2Adapter({ url: server.url, keyPrefix: `late${keySeq}:` });
    adapters.push(a);
    await a.ready();
    const late = createTestMeterProvider();
    try {
      metrics.setGlobalMeterProvider(late.meterProvider);
      refreshTelemetryBindings();
      await a.store([item(key(), payload(10, 1))]);
      expect(valueOf(await late.collect(), 'db.client.operation.duration', { 'db.operation.name': 'SET' })).to.equal(1);
    } finally {
      metrics.disable();
      await late.shutdown();
    }
  });

  it('does not hang when Redis is unreachable: misses, dropped stores, prompt close', async () => {
    const port = await freePort(); // nothing listens here
    const a = await adapter({ url: `redis://127.0.0.1:${port}`, operationTimeoutMs: 200, connectTimeoutMs: 200, breaker: { failureThreshold: 2, openMs: 60_000 } });
    expect(await a.ready(100)).to.equal(false);
    const k = key();
    expect(await a.lookupAndLock([k])).to.deep.equal([false]);
    expect(await a.store([item(k, payload(10, 1))])).to.deep.equal([false]);
    expect(a.breakerState).to.equal('open');
    expect(await a.store([item(k, payload(10, 1))])).to.deep.equal([false]);
    expect(await a.load([k], [new Uint8Array(10)])).to.deep.equal([false]);
    expect(await rejection(a.delete([k]))).to.be.instanceOf(UnavailableError);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.stores.dropped', { 'tierkv.l2.drop.reason': 'breaker_open' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.stores.dropped', { 'tierkv.l2.drop.reason': 'error' })).to.equal(1);
    expect(valueOf(rm, 'tierkv.l2.redis.breaker.transitions', { 'tierkv.breaker.state': 'open' })).to.equal(1);
    expect(valueOf(rm, 'db.client.operation.duration', { 'error.type': 'connection' })).to.equal(2);
    const started = Date.now();
    await a.close();
    expect(Date.now() - started, 'close() must not wait for Redis').to.be.lessThan(2000);
    adapters.splice(adapters.indexOf(a), 1);
  });

  it('does not hang with a cluster client whose seeds are all unreachable', async () => {
    const port = await freePort();
    const a = new RedisL2Adapter(
      { cluster: { nodes: [{ host: '127.0.0.1', port }] }, operationTimeoutMs: 200, connectTimeoutMs: 200, breaker: { failureThreshold: 1, openMs: 60_000 } },
      { meterProvider: tmp.meterProvider },
    );
    expect(await a.ready(100)).to.equal(false);
    const k = key();
    expect(await a.lookupAndLock([k])).to.deep.equal([false]);
    expect(await a.store([item(k, payload(10, 1))])).to.deep.equal([false]);
    expect(await a.load([k], [new Uint8Array(10)])).to.deep.equal([false]);
    expect(a.breakerState).to.equal('open');
    const started = Date.now();
    await a.close();
    expect(Date.now() - started, 'close() must not wait for Redis').to.be.lessThan(2000);
  });

  it('opens the breaker while Redis hangs (SIGSTOP) and recovers by itself when it answers again', async () => {
    const hung = await RedisServer.start();
    extraServers.push(hung);
    const a = await adapter({ url: hung.url, operationTimeoutMs: 150, breaker: { failureThreshold: 2, openMs: 100 } });
    expect(await a.ready()).to.equal(true);
    const k = key();
    expect(await a.store([item(k, payload(100, 1))])).to.deep.equal([true]);
    hung.pause();
    try {
      expect(await a.lookupAndLock([k])).to.deep.equal([false]);
      expect(await a.lookupAndLock([k])).to.deep.equal([false]);
      expect(a.breakerState).to.equal('open');
      expect(await a.store([item(key(), payload(100, 2))])).to.deep.equal([false]);
    } finally {
      hung.resume();
    }
    await waitFor(async () => {
      const [hit] = await a.lookupAndLock([k]);
      if (hit) await a.unlock([k]);
      return hit && a.breakerState === 'closed';
    }, 'the breaker to close after Redis resumed', 5000, 50);
    const t = new Uint8Array(100);
    expect(await a.load([k], [t])).to.deep.equal([true]);
    expect(Buffer.compare(t, payload(100, 1))).to.equal(0);
    const rm = await tmp.collect();
    expect(valueOf(rm, 'tierkv.l2.redis.breaker.transitions', { 'tierkv.breaker.state': 'closed' })).to.be.at.least(1);
    expect(valueOf(rm, 'db.client.operation.duration', { 'error.type': 'timeout' })).to.be.at.least(2);
  });

  it('never writes a reply that arrives after the deadline into the caller\'s memory', async () => {
    const slow = await RedisServer.start();
    extraServers.push(slow);
    // A client of the user's without ioredis' commandTimeout: only the adapter's deadline applies,
    // so the reply really does arrive after load() has answered.
    const client = new Redis(slow.url, { enableOfflineQueue: false });
    const a = await adapter({ url: slow.url, client, operationTimeoutMs: 150 });
    try {
      await waitFor(() => client.status === 'ready', 'client ready');
      const k = key();
      expect(await a.store([item(k, payload(100, 1))])).to.deep.equal([true]);
      slow.pause();
      const late = new Uint8Array(100);
      const answer = a.load([k], [late]);
      await new Promise((r) => setTimeout(r, 300));
      slow.resume();
      expect(await answer).to.deep.equal([false]);
      expect(await client.ping()).to.equal('PONG'); // the late GET reply has been read by now
      expect(late.every((b) => b === 0), 'a late reply wrote into memory the caller got back').to.equal(true);
    } finally {
      client.disconnect();
    }
  });

  it('rejects every call after close() with ClosedError', async () => {
    const a = await adapter();
    await a.close();
    await a.close();
    for (const call of [() => a.store([]), () => a.lookupAndLock([]), () => a.load([], []), () => a.unlock([]), () => a.delete([]), () => a.clear()]) {
      expect(await rejection(call())).to.be.instanceOf(ClosedError);
    }
  });
});
