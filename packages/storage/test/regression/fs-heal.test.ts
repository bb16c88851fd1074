import { expect } from 'chai';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { NODE_FS_OPS, type FsOps } from '../../src/l2/fs/fs-ops.js';
import { InstrumentedL2Adapter } from '../../src/l2/instrumented-l2-adapter.js';

const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'fs-heal');
const item = (k: ObjectKey, n = 4096, fill = 1) => ({ key: k, layout: MemoryLayout.bytes(n), data: new Uint8Array(n).fill(fill) });
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/** A file-system seam whose writes (opening a temporary file) fail with `code` while `failures` > 0. */
class InjectedFs implements FsOps {
  failures = 0;
  code = 'ENOSPC';
  free = 0;
  freeReads = 0;
  open: FsOps['open'] = async (path, flags) => {
    if (flags === 'w' && this.failures > 0) {
      this.failures--;
      throw errno(this.code);
    }
    return NODE_FS_OPS.open(path, flags);
  };
  rename = NODE_FS_OPS.rename;
  mkdir = NODE_FS_OPS.mkdir;
  unlink = NODE_FS_OPS.unlink;
  freeBytes = async () => {
    this.freeReads++;
    return this.free;
  };
}

describe('regression: the fs L2 tier heals (outside test under a running server)', () => {
  const dirs: string[] = [];
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'tierkv-fs-heal-'));
    dirs.push(d);
    return d;
  }

  it('shard directories removed under a live adapter are recreated: stores succeed and survive reopen', async () => {
    const dir = await tempDir();
    const warnings: string[] = [];
    const a = await FsL2Adapter.open({ path: dir, warn: (l) => warnings.push(l) });
    const keys = Array.from({ length: 40 }, (_, i) => key(i));
    expect(await a.store(keys.map((k) => item(k)))).to.deep.equal(keys.map(() => true));
    // Remove the shard directories of two keys, then store those keys (and others of the same shards) again.
    const victims = [...new Set([dirname(a.fileOf(keys[0]!)), dirname(a.fileOf(keys[1]!))])];
    for (const d of victims) await rm(d, { recursive: true });
    const again = keys.filter((k) => victims.includes(dirname(a.fileOf(k))));
    expect(await a.store(again.map((k) => item(k, 4096, 2)))).to.deep.equal(again.map(() => true));
    // One line per reason per interval: it names whichever removed directory a store hit first.
    expect(warnings.some((w) => victims.some((v) => w.includes(v)) && w.includes('ENOENT')), warnings.join('\n')).to.equal(true);
    await a.close();
    const b = await FsL2Adapter.open({ path: dir });
    open.push(b);
    for (const k of again) {
      const t = new Uint8Array(4096);
      expect(await b.load([k], [t])).to.deep.equal([true]);
      expect(t[0]).to.equal(2);
    }
  });

  it('the root directory removed under a live adapter is recreated, with its lock', async () => {
    const dir = await tempDir();
    const a = await FsL2Adapter.open({ path: dir, warn: () => undefined });
    await rm(dir, { recursive: true });
    expect(await a.store([item(key(1))])).to.deep.equal([true]);
    expect(await readdir(dir)).to.include('.tierkv-fs.lock');
    // Still exclusive: the recreated lock refuses a second opener.
    expect(await FsL2Adapter.open({ path: dir }).then(() => 'opened', () => 'refused')).to.equal('refused');
    await a.close();
    const b = await FsL2Adapter.open({ path: dir });
    open.push(b);
    expect(await b.lookupAndLock([key(1)])).to.deep.equal([true]);
    await b.unlock([key(1)]);
  });

  it('ENOSPC: evicts, lowers the budget to what the disk holds, recovers as space returns, counts no_space, warns once', async () => {
    const dir = await tempDir();
    const fs = new InjectedFs();
    let now = 0;
    const warnings: string[] = [];
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const configured = 1024 ** 3;
    const inner = await FsL2Adapter.open({ path: dir, warn: (l) => warnings.push(l) }, { fsOps: fs, now: () => now, spaceCheckIntervalMs: 5000, warnIntervalMs: 30_000 });
    const a = new InstrumentedL2Adapter(inner, { meterProvider });
    open.push(a);
    for (let i = 0; i < 10; i++) expect(await a.store([item(key(i))])).to.deep.equal([true]);
    const held = a.usage().usedBytes;
    // The disk is full: the next write fails once, then fits after one eviction.
    fs.failures = 1;
    expect(await a.store([item(key(10))])).to.deep.equal([true]);
    expect(inner.evictedObjects).to.equal(1);
    expect(a.usage()).to.include({ capacityBytes: held, objects: 10 });
    expect(inner.configuredCapacityBytes).to.equal(configured);
    // Later writes stay within the lowered budget by evicting, instead of failing.
    expect(await a.store([item(key(11))])).to.deep.equal([true]);
    expect(a.usage().usedBytes).to.be.at.most(held);
    // A write that fails even after eviction: a no_space failure; one warning for all of it.
    fs.failures = 2;
    expect(await a.store([item(key(12))])).to.deep.equal([false]);
    expect(warnings.filter((w) => w.includes('ENOSPC'))).to.have.length(1);
    expect(warnings[0]).to.include(dir).and.include('ENOSPC');
    // Space returns: the budget grows back, at most every interval.
    fs.free = 10 * configured;
    now += 1000;
    await a.store([item(key(13))]);
    expect(fs.freeReads).to.equal(0);
    expect(a.usage().capacityBytes).to.be.below(configured);
    now += 5000;
    await a.store([item(key(14))]);
    expect(fs.freeReads).to.equal(1);
    expect(a.usage().capacityBytes).to.equal(configured);
    for (let i = 15; i < 30; i++) expect(await a.store([item(key(i))])).to.deep.equal([true]);
    expect(a.usage().usedBytes).to.be.above(held);
    const rm_ = await collect();
    const attrs = { 'tierkv.l2.adapter': 'fs', 'tierkv.l2.operation': 'store' };
    expect(valueOf(rm_, 'tierkv.l2.failures', { ...attrs, 'tierkv.l2.failure.reason': 'no_space' })).to.equal(1);
    expect(valueOf(rm_, 'tierkv.l2.capacity', { 'tierkv.l2.adapter': 'fs' })).to.equal(configured);
    await shutdown();
  });

  it('EACCES is a permission failure, warned with its code, and told apart from ENOSPC', async () => {
    const dir = await tempDir();
    const fs = new InjectedFs();
    fs.code = 'EACCES';
    const warnings: string[] = [];
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const inner = await FsL2Adapter.open({ path: dir, warn: (l) => warnings.push(l) }, { fsOps: fs });
    const a = new InstrumentedL2Adapter(inner, { meterProvider });
    open.push(a);
    fs.failures = 3;
    expect(await a.store([item(key(1)), item(key(2)), item(key(3))])).to.deep.equal([false, false, false]);
    expect(a.usage().capacityBytes).to.equal(inner.configuredCapacityBytes); // no budget change
    const rm_ = await collect();
    expect(valueOf(rm_, 'tierkv.l2.failures', { 'tierkv.l2.adapter': 'fs', 'tierkv.l2.operation': 'store', 'tierkv.l2.failure.reason': 'permission' })).to.equal(3);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('EACCES').and.include('permission').and.include(dir);
    await shutdown();
  });
});
