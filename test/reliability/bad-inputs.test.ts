import { expect } from 'chai';
import { ConfigError, InvalidArgumentError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { CacheController } from '@tierkv/controller';
import { RedisL2Adapter } from '@tierkv/l2-redis';
import { TierkvClient } from '@tierkv/server';
import { StorageManager } from '@tierkv/storage';

/** The error `fn` throws or rejects with (a test fails when it returns normally). */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('accepted, expected a typed error');
}

// Issue 15, "Bad input": every case the outside test found silently accepted or failing with an
// untyped TypeError, each now a typed error naming the field and saying what to do. The CLI cases
// (a __proto__ key in a config file, an fs path that is a plain file, --l1-size above the
// machine's memory) are in packages/cli/test/config/resolve-config.test.ts and
// packages/cli/test/runtime/storage-stack.test.ts.
describe('bad input gets a typed error naming the field (issue 15)', () => {
  const layout = MemoryLayout.bytes(64);
  let storage: StorageManager;
  let client: TierkvClient;

  before(() => {
    storage = new StorageManager({ l1: { capacityBytes: 1 << 20 } });
    client = new TierkvClient({ endpoint: 'tcp://127.0.0.1:9', layout, timeoutMs: 1_000 });
  });

  after(async () => {
    client.close();
    await storage.close();
  });

  const cases: [string, () => unknown, typeof ConfigError | typeof InvalidArgumentError, RegExp][] = [
    ['StorageManager option storeQueueLimitByte (a typo)', () => new StorageManager({ l1: { capacityBytes: 1 << 20 }, storeQueueLimitByte: 1 } as never), ConfigError, /storage\.storeQueueLimitByte: unknown option \(did you mean storeQueueLimit\?\)/],
    ['the CLI name l1.watermark given to the library', () => new StorageManager({ l1: { capacityBytes: 1 << 20, watermark: 0.9 } as never }), ConfigError, /l1\.watermark: unknown option/],
    ['CacheController option authTokn', () => new CacheController({ authTokn: 'x' } as never), ConfigError, /controller\.authTokn: unknown option \(did you mean authToken\?\)/],
    ['a Redis URL of http://x', () => new RedisL2Adapter({ url: 'http://x' }), ConfigError, /redis\.url: scheme http: is not Redis/],
    ['submitPrefetch(keys, null)', () => storage.submitPrefetch([], null as never), InvalidArgumentError, /layout/],
    ['delete("x")', () => storage.delete('x' as never), InvalidArgumentError, /keys: expected an array of ObjectKey, got string/],
    ['delete([null])', () => storage.delete([null] as never), InvalidArgumentError, /keys\[0\]: expected an ObjectKey/],
    ['readPrefetched(null)', () => storage.readPrefetched(null as never), InvalidArgumentError, /keys: expected an array/],
    ['finishReadPrefetched(null)', () => storage.finishReadPrefetched(null as never), InvalidArgumentError, /keys: expected an array/],
    ['client.store([null])', () => client.store([null] as never, [new Uint8Array(64)]), InvalidArgumentError, /keys\[0\]: expected an ObjectKey/],
    ['a key over 1 MiB (a 2 M-character model name) at the client', () => client.store([{ ...objectKey('0123456789abcdef', 'm'), modelName: 'm'.repeat(2_000_000) }], [new Uint8Array(64)]), InvalidArgumentError, /keys\[0\]: model name or salt longer than 1024/],
    ['a key over 1 MiB at the storage manager', () => storage.delete([{ ...objectKey('0123456789abcdef', 'm'), modelName: 'm'.repeat(2_000_000) } as ObjectKey]), InvalidArgumentError, /keys\[0\]: model name or salt longer than 1024/],
    ['a key over 1 MiB built with objectKey()', () => objectKey('0123456789abcdef', 'm'.repeat(2_000_000)), InvalidArgumentError, /modelName: 2000000 characters is longer than the limit \(1024\)/],
  ];

  for (const [name, fn, type, message] of cases) {
    it(name, async () => {
      const err = await errorOf(fn);
      expect(err, `${err.constructor.name}: ${err.message}`).to.be.instanceOf(type);
      expect(err.message).to.match(message);
    });
  }
});
