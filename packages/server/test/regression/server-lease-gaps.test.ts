import { expect } from 'chai';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { StorageManager } from '@tierkv/storage';
import { thrownBy, waitFor } from '@tierkv/test-utils';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';

const layout = MemoryLayout.bytes(4096);
const keys = [0, 1, 2, 3].map((i) => objectKey(i.toString(16).padStart(16, '0'), 'lease-gaps'));
const chunk = (i: number) => new Uint8Array(4096).fill(i + 1);

describe('regression: server lease gaps (issue 10, item 12)', () => {
  it('leases that outlive L1’s read-lock TTL are refused at construction, naming both settings', () => {
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20, readLockTtlMs: 60_000, lockSweepIntervalMs: 0 } });
    try {
      const idle = thrownBy(() => new TierkvServer({ storage, port: 0, httpPort: null, clientIdleMs: 60_000, lockLeaseMs: 10_000 }), ConfigError);
      expect(idle.message).to.match(/clientIdleMs/).and.match(/readLockTtlMs = 60000/);
      const lease = thrownBy(() => new TierkvServer({ storage, port: 0, httpPort: null, lockLeaseMs: 59_500, clientIdleMs: 10_000 }), ConfigError);
      expect(lease.message).to.match(/lockLeaseMs/);
    } finally {
      void storage.close();
    }
  });

  it('the defaults sit inside the default L1 read-lock TTL', () => {
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20, lockSweepIntervalMs: 0 } });
    expect(() => new TierkvServer({ storage, port: 0, httpPort: null })).to.not.throw();
    void storage.close();
  });

  it('a retrieve of part of a prefetch releases every lock the prefetch took, over real sockets', async () => {
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20, lockSweepIntervalMs: 0 } });
    const server = new TierkvServer({ storage, port: 0, httpPort: null });
    await server.start();
    const client = new TierkvClient({ endpoint: server.endpoint, layout, timeoutMs: 20_000 });
    try {
      expect((await client.store(keys, keys.map((_, i) => chunk(i)))).storedCount).to.equal(4);
      await storage.flush();
      const looked = await client.lookup(keys, { wait: true });
      expect(looked.ready).to.equal(4);
      expect(storage.l1.usage().byState.readLocked).to.equal(4);
      const part = await client.retrieve(keys.slice(0, 2), { prefetchId: looked.prefetchId! });
      expect(part.chunks.map((c) => c[0])).to.deep.equal([1, 2]);
      // The locks of keys 2 and 3 went with the prefetch too.
      await waitFor(() => storage.l1.usage().byState.readLocked === 0, 'the prefetch to release all four locks', 20_000);
    } finally {
      client.close();
      await server.shutdown(1_000);
    }
  });
});
