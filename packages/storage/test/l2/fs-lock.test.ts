import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { LOCK_FILE } from '../../src/l2/fs/dir-lock.js';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';

describe('FsL2Adapter directory lock', () => {
  let dir: string;
  const open: FsL2Adapter[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tierkv-fs-lock-'));
  });
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close();
    await rm(dir, { recursive: true, force: true });
  });
  const exists = (p: string) => stat(p).then(() => true, () => false);

  it('refuses a second adapter on the same directory while the first is open, and allows it after close', async () => {
    const first = await FsL2Adapter.open({ path: dir });
    open.push(first);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).to.equal(String(process.pid));
    const err = await FsL2Adapter.open({ path: dir }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(dir).and.to.match(/already open by another FsL2Adapter in this process/);
    // The refused open left the owner's lock alone.
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).to.equal(String(process.pid));
    await first.close();
    open.splice(0);
    expect(await exists(join(dir, LOCK_FILE))).to.equal(false);
    const second = await FsL2Adapter.open({ path: dir });
    open.push(second);
    expect(await exists(join(dir, LOCK_FILE))).to.equal(true);
  });

  it('takes over a stale lock whose process is dead, and serves the objects already there', async () => {
    const k = objectKey('00000000000000aa', 'lock-test');
    const data = new Uint8Array(64).fill(7);
    const a = await FsL2Adapter.open({ path: dir });
    expect(await a.store([{ key: k, layout: MemoryLayout.bytes(64), data }])).to.deep.equal([true]);
    await a.close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid names no live process
    await writeFile(join(dir, LOCK_FILE), `${dead}\n`);
    const b = await FsL2Adapter.open({ path: dir });
    open.push(b);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).to.equal(String(process.pid));
    expect(await b.lookupAndLock([k])).to.deep.equal([true]);
    await b.unlock([k]);
  });

  it('refuses while another live process holds the lock', async () => {
    // The parent of this process is alive for as long as the test runs.
    await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`);
    const err = await FsL2Adapter.open({ path: dir }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(`process ${process.ppid}`);
  });
});
