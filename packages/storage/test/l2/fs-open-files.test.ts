import { expect } from 'chai';
import { mkdtemp, open, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { NODE_FS_OPS, type FsOps } from '../../src/l2/fs/fs-ops.js';
import type { FsL2AdapterOptions } from '../../src/l2/fs/fs-options.js';

const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'fs-open-files');
const bytes = (size: number, seed: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 29 + seed * 13) & 255);
const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });

/** The real file-system calls, counting read opens and the closes of the handles they returned. */
function countingOps(): { ops: FsOps; readOpens: () => number; openHandles: () => number } {
  let readOpens = 0;
  let live = 0;
  const ops: FsOps = {
    ...NODE_FS_OPS,
    open: async (path: string, flags: string): Promise<FileHandle> => {
      const fh = await open(path, flags);
      if (flags !== 'r') return fh;
      readOpens++;
      live++;
      const close = fh.close.bind(fh);
      fh.close = () => {
        live--;
        return close();
      };
      return fh;
    },
  };
  return { ops, readOpens: () => readOpens, openHandles: () => live };
}

describe('FsL2Adapter open read handles (maxOpenFiles)', () => {
  const dirs: string[] = [];
  const adapters: FsL2Adapter[] = [];
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function adapter(ops: FsOps, extra: Partial<FsL2AdapterOptions> = {}): Promise<FsL2Adapter> {
    const path = await mkdtemp(join(tmpdir(), 'tierkv-fsof-'));
    dirs.push(path);
    const a = await FsL2Adapter.open({ path, ...extra }, { fsOps: ops });
    adapters.push(a);
    return a;
  }
  async function load(a: FsL2Adapter, k: ObjectKey, size: number): Promise<Uint8Array | undefined> {
    const t = new Uint8Array(size);
    const [ok] = await a.load([k], [t]);
    return ok ? t : undefined;
  }

  it('a repeated load reuses the open handle; with maxOpenFiles 0 every load opens and closes', async () => {
    const cached = countingOps();
    const a = await adapter(cached.ops);
    await a.store([item(key(1), bytes(4096, 1))]);
    for (let i = 0; i < 4; i++) expect(Buffer.compare((await load(a, key(1), 4096))!, bytes(4096, 1))).to.equal(0);
    expect(cached.readOpens()).to.equal(1);
    const plain = countingOps();
    const b = await adapter(plain.ops, { maxOpenFiles: 0 });
    await b.store([item(key(1), bytes(4096, 1))]);
    for (let i = 0; i < 4; i++) expect(await load(b, key(1), 4096)).to.not.equal(undefined);
    expect(plain.readOpens()).to.equal(4);
    await b.close();
    expect(plain.openHandles()).to.equal(0);
  });

  it('keeps at most maxOpenFiles handles, the least recently used closed first, and close() closes the rest', async () => {
    const c = countingOps();
    const a = await adapter(c.ops, { maxOpenFiles: 2 });
    for (let i = 1; i <= 5; i++) await a.store([item(key(i), bytes(1000, i))]);
    for (let i = 1; i <= 5; i++) await load(a, key(i), 1000);
    expect(c.readOpens()).to.equal(5);
    // Closing is asynchronous: wait for the counts the bound implies.
    for (let spin = 0; c.openHandles() > 2 && spin < 1000; spin++) await new Promise((r) => setImmediate(r));
    expect(c.openHandles()).to.equal(2);
    await load(a, key(5), 1000);
    await load(a, key(4), 1000);
    expect(c.readOpens(), 'the two most recent are still open').to.equal(5);
    await load(a, key(1), 1000);
    expect(c.readOpens()).to.equal(6);
    await a.close();
    expect(c.openHandles()).to.equal(0);
  });

  it('a store replaces the object: the next load opens the new file, never the old handle', async () => {
    const c = countingOps();
    const a = await adapter(c.ops);
    await a.store([item(key(1), bytes(2048, 1))]);
    await load(a, key(1), 2048);
    await a.store([item(key(1), bytes(2048, 2))]);
    expect(Buffer.compare((await load(a, key(1), 2048))!, bytes(2048, 2))).to.equal(0);
    expect(c.readOpens()).to.equal(2);
    await a.delete([key(1)]);
    expect(await load(a, key(1), 2048)).to.equal(undefined);
  });

  it('a file removed or renamed over behind its back is a miss through a cached handle, and forgotten', async () => {
    const a = await adapter(NODE_FS_OPS);
    const [k1, k2] = [key(1), key(2)];
    await a.store([item(k1, bytes(3000, 1)), item(k2, bytes(3000, 2))]);
    expect(await load(a, k1, 3000)).to.not.equal(undefined);
    expect(await load(a, k2, 3000)).to.not.equal(undefined);
    await unlink(a.fileOf(k1));
    // Another writer's file renamed into k2's place (here: k2's own bytes, rewritten): the cached
    // handle still reads the old inode, which is no longer the object.
    const aside = `${a.fileOf(k2)}.elsewhere`;
    await writeFile(aside, 'not an object of this adapter');
    await rename(aside, a.fileOf(k2));
    expect(await load(a, k1, 3000)).to.equal(undefined);
    expect(await load(a, k2, 3000)).to.equal(undefined);
    expect(await a.lookupAndLock([k1, k2])).to.deep.equal([false, false]);
  });

  it('refuses a bad maxOpenFiles and unknown options, naming them', async () => {
    const path = await mkdtemp(join(tmpdir(), 'tierkv-fsof-'));
    dirs.push(path);
    for (const [options, field] of [
      [{ path, maxOpenFiles: -1 }, /fsL2\.maxOpenFiles/],
      [{ path, maxOpenFile: 3 }, /fsL2\.maxOpenFile.*did you mean maxOpenFiles/],
    ] as const) {
      let err: unknown;
      try {
        adapters.push(await FsL2Adapter.open(options as FsL2AdapterOptions));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.match(field);
    }
  });
});
