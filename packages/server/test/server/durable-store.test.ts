import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, InvalidArgumentError, MemoryLayout } from '@tierkv/core';
import { FsL2Adapter, MemoryL2Adapter, StorageManager } from '@tierkv/storage';
import { FaultyL2Adapter } from '@tierkv/storage/testing';
import { TierkvClient } from '../../src/client/tierkv-client.js';
import { LayoutCache, parseRequest } from '../../src/protocol/validation.js';
import { WireError } from '../../src/protocol/wire-error.js';
import { TierkvServer } from '../../src/server/tierkv-server.js';
import type { TierkvServerOptions } from '../../src/server/server-options.js';
import { patternBytes, testKey } from '../helpers/keys.js';

const LAYOUT = MemoryLayout.bytes(4096);
const l1 = { capacityBytes: 4 * 2 ** 20, lockSweepIntervalMs: 0 };

describe('server: durable stores (durability l2)', function () {
  this.timeout(20_000);
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
  });

  async function serve(storage: StorageManager, options: Partial<TierkvServerOptions> = {}): Promise<TierkvServer> {
    const server = new TierkvServer({ storage, port: 0, httpPort: null, closeStorage: false, ...options });
    await server.start();
    cleanup.push(() => storage.close(), () => server.shutdown(1_000));
    return server;
  }

  function client(server: TierkvServer, options: { durability?: 'memory' | 'l2' } = {}): TierkvClient {
    const c = new TierkvClient({ endpoint: server.endpoint, layout: LAYOUT, timeoutMs: 10_000, ...options });
    cleanup.push(async () => c.close());
    return c;
  }

  it('acknowledges only what is on disk: a fresh StorageManager on the same directory loads it, with the server still holding L1 unflushed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tierkv-durable-srv-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const fs = await FsL2Adapter.open({ path: dir, fsync: true });
    const server = await serve(new StorageManager({ l1, l2: [fs] }), { durability: 'l2' });
    // No durability in the request (what an older client sends): the server default applies.
    const res = await client(server).store([testKey(1), testKey(2)], [patternBytes(1, 4096), patternBytes(2, 4096)]);
    expect(res).to.include({ durability: 'l2', storedCount: 2 });
    expect(res.outcomes).to.deep.equal(['durable', 'durable']);
    // Take the disk away from the running server: nothing it still holds in memory is flushed.
    await fs.close();
    const fresh = new StorageManager({ l1, l2: [await FsL2Adapter.open({ path: dir })] });
    cleanup.push(() => fresh.close());
    const lease = fresh.prefetch([testKey(1), testKey(2)], LAYOUT);
    expect(await lease.ready).to.equal(2);
    lease.objects().forEach((o, i) => expect(Buffer.from(o.data).equals(Buffer.from(patternBytes(i + 1, 4096)))).to.equal(true));
    lease.release();
  });

  it('per call and per client: l2 on a memory server reports keys that did not reach L2 with their code, not as stored', async () => {
    const faulty = new FaultyL2Adapter(new MemoryL2Adapter(), { seed: 7 });
    const server = await serve(new StorageManager({ l1, l2: [faulty] }));
    const c = client(server);
    const memory = await c.store([testKey(1)], [patternBytes(1, 4096)]);
    expect(memory).to.include({ durability: 'memory', storedCount: 1 });
    expect(memory.outcomes).to.equal(undefined);
    faulty.faults.store.alwaysFail();
    const failed = await c.put([testKey(2), testKey(1)], [patternBytes(2, 4096), patternBytes(1, 4096)], { durability: 'l2' });
    expect(failed).to.deep.include({ durability: 'l2', stored: [false, false], storedCount: 0, outcomes: ['l2_failed', 'not_stored'] });
    faulty.faults.store.never();
    const ok = await client(server, { durability: 'l2' }).store([testKey(3)], [patternBytes(3, 4096)]);
    expect(ok).to.deep.include({ stored: [true], outcomes: ['durable'] });
    // A call may still ask for less than its client's default.
    expect(await client(server, { durability: 'l2' }).store([testKey(4)], [patternBytes(4, 4096)], { durability: 'memory' })).to.include({ durability: 'memory' });
  });

  it('refuses l2 without an L2 tier: the server option at construction, a request with BAD_REQUEST naming durability', async () => {
    const noL2 = new StorageManager({ l1 });
    cleanup.push(() => noL2.close());
    expect(() => new TierkvServer({ storage: noL2, durability: 'l2' })).to.throw(ConfigError, /server\.durability/);
    const server = await serve(noL2);
    const err = await client(server)
      .store([testKey(1)], [patternBytes(1, 4096)], { durability: 'l2' })
      .then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect(err).to.include({ serverCode: 'BAD_REQUEST', field: 'durability' });
    expect(noL2.l1.contains([testKey(1)])).to.deep.equal([false]);
  });

  it('validates durability everywhere with typed errors naming the field, and refuses unknown options', () => {
    const storage = new StorageManager({ l1, l2: [new MemoryL2Adapter()] });
    cleanup.push(() => storage.close());
    expect(() => new TierkvServer({ storage, durability: 'disk' as never })).to.throw(ConfigError, /server\.durability/);
    expect(() => new TierkvServer({ storage, durabilty: 'l2' } as never)).to.throw(ConfigError, /server\.durabilty.*did you mean durability/);
    expect(() => new TierkvClient({ durability: 'disk' as never })).to.throw(ConfigError, /client\.durability/);
    expect(() => new TierkvClient({ durabilty: 'l2' } as never)).to.throw(ConfigError, /client\.durabilty/);
    const header = { type: 'store', keys: [], layout: LAYOUT.toString(), durability: 'disk' };
    expect(() => parseRequest(header, { maxKeysPerRequest: 8, maxTokensPerRequest: 8 }, new LayoutCache()))
      .to.throw(WireError, /durability/)
      .with.property('field', 'durability');
    const omitted = parseRequest({ ...header, durability: undefined }, { maxKeysPerRequest: 8, maxTokensPerRequest: 8 }, new LayoutCache());
    expect(omitted).to.include({ type: 'store', durability: undefined });
  });

  it('a per-call durability that is not memory or l2 is refused before sending', async () => {
    const server = await serve(new StorageManager({ l1, l2: [new MemoryL2Adapter()] }));
    const err = await client(server)
      .store([testKey(1)], [patternBytes(1, 4096)], { durability: 'fsync' as never })
      .then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError).with.property('argument', 'options.durability');
  });
});
