import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MemoryLayout, objectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { StorageManager } from '../../src/manager/storage-manager.js';

describe('a meterProvider given to a StorageManager reaches its L2 adapters (docs/observability.md)', () => {
  it('tierkv.l2.corrupt of an fs adapter arrives through the manager’s provider, not the global one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tierkv-provider-'));
    const provider = createTestMeterProvider();
    const fs = await FsL2Adapter.open({ path: dir });
    const storage = new StorageManager({ l1: { capacityBytes: 1 << 20, lockSweepIntervalMs: 0 }, l2: [fs], meterProvider: provider.meterProvider });
    try {
      const layout = MemoryLayout.bytes(4096);
      const k = objectKey('00000000000000c1', 'provider');
      const r = storage.reserve([k], layout);
      r.objects[0]!.data.fill(3);
      r.commit();
      await storage.flush();
      storage.l1.delete([k]);
      expect(await fs.corruptStoredObject(k, 10)).to.equal(true);
      const lease = storage.prefetch([k], layout);
      expect(await lease.ready).to.equal(0);
      lease.release();
      expect(valueOf(await provider.collect(), 'tierkv.l2.corrupt', { 'tierkv.l2.adapter': 'fs' })).to.equal(1);
    } finally {
      await storage.close();
      await provider.shutdown();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
