import { expect } from 'chai';
import { appendFile, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { createTestMeterProvider, valueOf } from '@tierkv/test-utils';
import { LOCK_FILE } from '../../src/l2/fs/dir-lock.js';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { registerL2AdapterSuite } from '../../src/testing/l2-adapter-suite.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tierkv-fs-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

registerL2AdapterSuite('FsL2Adapter', async () => FsL2Adapter.open({ path: await tempDir() }), {
  createWithBudget: async (capacityBytes) => FsL2Adapter.open({ path: await tempDir(), capacityBytes }),
});

describe('FsL2Adapter', () => {
  const key = (i: number, model = 'fs-test'): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), model);
  const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });
  const open: FsL2Adapter[] = [];
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close();
  });
  async function openAt(path: string, extra: Partial<Parameters<typeof FsL2Adapter.open>[0]> = {}): Promise<FsL2Adapter> {
    const a = await FsL2Adapter.open({ path, ...extra });
    open.push(a);
    return a;
  }
  async function load(a: FsL2Adapter, k: ObjectKey, size: number): Promise<Uint8Array | undefined> {
    const t = new Uint8Array(size);
    const [ok] = await a.load([k], [t]);
    return ok ? t : undefined;
  }

  it('fs same-key stores (issue 10, item 7): overlapping stores of one key with fsync leave index, file and usage agreeing', async () => {
    const dir = await tempDir();
    const a = await openAt(dir, { fsync: true });
    const keys = Array.from({ length: 200 }, (_, i) => key(5000 + i));
    // Each key gets three overlapping stores of different sizes, plus a delete racing the middle one.
    const sizes = [700, 1500, 1100];
    await Promise.all(
      keys.flatMap((k, i) => [
        ...sizes.map((n) => a.store([item(k, Buffer.alloc(n, (i + n) & 0xff))])),
        ...(i % 4 === 0 ? [a.delete([k])] : []),
      ]),
    );
    let files = 0;
    for (const [i, k] of keys.entries()) {
      const [present] = await a.lookupAndLock([k]);
      if (!present) continue;
      await a.unlock([k]);
      files++;
      // Present ⇔ loadable, at the size of one of the stores, with that store's bytes.
      let loaded = false;
      for (const n of sizes) {
        const got = await load(a, k, n);
        if (got) {
          expect(Buffer.from(got).equals(Buffer.alloc(n, (i + n) & 0xff)), `bytes of key ${i}`).to.equal(true);
          loaded = true;
        }
      }
      expect(loaded, `key ${i} is present to lookup but loads at no size`).to.equal(true);
    }
    expect(files).to.be.greaterThan(100);
    // Usage equals the bytes of the files on disk.
    const onDisk = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.') && !d.name.endsWith('.tmp') && d.name !== LOCK_FILE)
      .map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
    let bytes = 0;
    for (const f of onDisk) bytes += (await readFile(f)).length;
    expect(a.usage()).to.include({ objects: files, usedBytes: bytes });
  });

  it('keeps objects across close and reopen (the index is rebuilt from headers)', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    const data = [randomBytes(1000), randomBytes(5000), randomBytes(1)];
    await a.store(data.map((d, i) => item(key(i), d)));
    const used = a.usage().usedBytes;
    await a.close();
    const b = await openAt(dir);
    expect(b.usage().objects).to.equal(3);
    expect(b.usage().usedBytes).to.equal(used);
    for (let i = 0; i < data.length; i++) {
      const got = await load(b, key(i), data[i]!.length);
      expect(got && Buffer.from(got).equals(data[i]!), `object ${i}`).to.equal(true);
    }
  });

  it('never uses a key as a path: files are hashed names in shard directories', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    const evil = objectKey('00000000000000ff', '../../etc/passwd', 0, '/../x');
    await a.store([item(evil, randomBytes(10))]);
    const file = a.fileOf(evil);
    expect(file.startsWith(dir)).to.equal(true);
    expect(file.slice(dir.length)).to.match(/^\/[0-9a-f]{2}\/[0-9a-f]{64}\.kv$/);
    expect(await load(a, evil, 10)).to.not.equal(undefined);
  });

  it('detects a flipped payload byte: a counted miss, never data, and the file is deleted', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    const dir = await tempDir();
    const a = await openAt(dir, { meterProvider });
    const data = randomBytes(4096);
    await a.store([item(key(1), data)]);
    const file = a.fileOf(key(1));
    const bytes = await readFile(file);
    bytes[bytes.length - 100] ^= 0x01;
    await writeFile(file, bytes);
    expect(await load(a, key(1), 4096)).to.equal(undefined);
    expect(a.corruptObjects).to.equal(1);
    expect(await a.lookupAndLock([key(1)])).to.deep.equal([false]);
    await expectGone(file);
    expect(valueOf(await collect(), 'tierkv.l2.corrupt', { 'tierkv.l2.adapter': 'fs' })).to.equal(1);
    await shutdown();
  });

  it('detects a truncated file the same way', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    await a.store([item(key(2), randomBytes(4096))]);
    await truncate(a.fileOf(key(2)), 3000);
    expect(await load(a, key(2), 4096)).to.equal(undefined);
    expect(a.corruptObjects).to.equal(1);
  });

  it('detects a file with bytes appended, a flipped header byte and another key\'s object in its place', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    await a.store([item(key(3), randomBytes(4096)), item(key(4), randomBytes(4096)), item(key(5), randomBytes(4096)), item(key(6), randomBytes(4096))]);
    await appendFile(a.fileOf(key(3)), Buffer.from([1, 2, 3]));
    expect(await load(a, key(3), 4096)).to.equal(undefined);
    const f4 = a.fileOf(key(4));
    const bytes = await readFile(f4);
    bytes[40] ^= 0x01; // inside the encoded key, under the header crc32
    await writeFile(f4, bytes);
    expect(await load(a, key(4), 4096)).to.equal(undefined);
    await writeFile(a.fileOf(key(5)), await readFile(a.fileOf(key(6))));
    expect(await load(a, key(5), 4096)).to.equal(undefined);
    expect(a.corruptObjects).to.equal(3);
    expect(await load(a, key(6), 4096)).to.not.equal(undefined);
  });

  it('drops corrupt and truncated files and leftover temporary files when it reopens', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    await a.store([item(key(1), randomBytes(512)), item(key(2), randomBytes(512)), item(key(3), randomBytes(512))]);
    const f1 = a.fileOf(key(1));
    const f2 = a.fileOf(key(2));
    await a.close();
    const header = await readFile(f1);
    header[40] ^= 0xff; // inside the key: the header checksum no longer matches
    await writeFile(f1, header);
    await truncate(f2, 100);
    await writeFile(`${f2}.abcdef.tmp`, 'half a write');
    const b = await openAt(dir);
    expect(b.usage().objects).to.equal(1);
    expect(b.corruptObjects).to.equal(2);
    expect(await b.lookupAndLock([key(1), key(2), key(3)])).to.deep.equal([false, false, true]);
    await b.unlock([key(3)]);
    const shard = (await readdir(join(f2, '..'))).filter((n) => n.endsWith('.tmp'));
    expect(shard).to.deep.equal([]);
  });

  it('writes atomically: no temporary files are left after stores', async () => {
    const dir = await tempDir();
    const a = await openAt(dir, { fsync: true });
    await a.store(Array.from({ length: 8 }, (_, i) => item(key(i), randomBytes(256))));
    const all: string[] = [];
    for (const shard of await readdir(dir)) if (shard !== LOCK_FILE) all.push(...(await readdir(join(dir, shard))));
    expect(all.filter((n) => !n.endsWith('.kv'))).to.deep.equal([]);
    expect(all.length).to.equal(8);
  });

  it('evicts to a smaller budget on reopen and counts it', async () => {
    const dir = await tempDir();
    const a = await openAt(dir);
    await a.store(Array.from({ length: 4 }, (_, i) => item(key(i), randomBytes(10_000))));
    await a.close();
    const b = await openAt(dir, { capacityBytes: 25_000 });
    expect(b.usage().objects).to.equal(2);
    expect(b.evictedObjects).to.equal(2);
  });

  it('names the bad option', async () => {
    await expectReject(FsL2Adapter.open({ path: '' }), 'fsL2.path');
    await expectReject(FsL2Adapter.open({ path: await tempDir(), capacityBytes: 0 }), 'fsL2.capacityBytes');
    await expectReject(FsL2Adapter.open({ path: await tempDir(), maxConcurrentOps: 0 }), 'fsL2.maxConcurrentOps');
  });
});

async function expectGone(file: string): Promise<void> {
  const err = await readFile(file).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  expect(err?.code).to.equal('ENOENT');
}

async function expectReject(p: Promise<unknown>, field: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(ConfigError);
  expect((err as ConfigError).field).to.equal(field);
}
