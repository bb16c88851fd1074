import { expect } from 'chai';
import { ConfigError } from '@tierkv/core';
import { DEFAULT_REDIS_L2_OPTIONS, resolveRedisL2Options } from '@tierkv/l2-redis';

describe('resolveRedisL2Options', () => {
  it('fills every field from DEFAULT_REDIS_L2_OPTIONS', () => {
    const o = resolveRedisL2Options();
    expect(o.keyPrefix).to.equal(DEFAULT_REDIS_L2_OPTIONS.keyPrefix);
    expect(o.url).to.equal('redis://127.0.0.1:6379');
    expect(o.ttlSeconds).to.equal(0);
    expect(o.checksum).to.equal('xxh3');
    expect(o.operationTimeoutMs).to.equal(2000);
    expect(o.cluster).to.equal(undefined);
    expect(o.breaker).to.deep.equal({ failureThreshold: 5, openMs: 2000 });
  });

  it('rejects a key prefix with a cluster hash tag', () => {
    expect(() => resolveRedisL2Options({ keyPrefix: '{tierkv}:' })).to.throw(ConfigError, /redis.keyPrefix.*hash tag/);
  });

  it('rejects bad numbers, names and an empty cluster', () => {
    expect(() => resolveRedisL2Options({ operationTimeoutMs: 0 })).to.throw(ConfigError, /operationTimeoutMs/);
    expect(() => resolveRedisL2Options({ ttlSeconds: 1.5 })).to.throw(ConfigError, /ttlSeconds/);
    expect(() => resolveRedisL2Options({ name: 'Redis Prod' })).to.throw(ConfigError, /redis.name/);
    expect(() => resolveRedisL2Options({ cluster: { nodes: [] } })).to.throw(ConfigError, /cluster.nodes/);
    expect(() => resolveRedisL2Options({ checksum: 'md5' as 'none' })).to.throw(ConfigError, /redis.checksum/);
  });

  it('refuses a URL that is not Redis (ioredis would read it as something else)', () => {
    expect(() => resolveRedisL2Options({ url: 'http://x' })).to.throw(ConfigError, /redis\.url: scheme http: is not Redis/);
    expect(() => resolveRedisL2Options({ url: 'localhost:6379' })).to.throw(ConfigError, /redis\.url/);
    expect(() => resolveRedisL2Options({ url: '' })).to.throw(ConfigError, /redis\.url/);
    expect(() => resolveRedisL2Options({ url: 'redis://' })).to.throw(ConfigError, /names no host/);
    expect(resolveRedisL2Options({ url: 'rediss://user:pw@cache.internal:6380/2' }).url).to.equal('rediss://user:pw@cache.internal:6380/2');
    expect(resolveRedisL2Options({ url: '/run/redis/redis.sock' }).url).to.equal('/run/redis/redis.sock');
  });
});
