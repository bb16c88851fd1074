import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MemoryLayout, objectKey } from '@tierkv/core';
import { currentOwner, LOCK_FILE, LOCK_REFRESH_MS, parseOwner, processStartTime } from '../../src/l2/fs/dir-lock.js';
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
  const lockPid = async () => parseOwner(await readFile(join(dir, LOCK_FILE), 'utf8'))?.pid;
  const writeLock = (fields: Record<string, unknown>) => writeFile(join(dir, LOCK_FILE), `${JSON.stringify({ ...currentOwner(), ...fields })}\n`);
  const refused = async () => {
    const err = await FsL2Adapter.open({ path: dir }).then(
      (a) => (open.push(a), undefined),
      (e: unknown) => e,
    );
    expect(err, 'the open should have been refused').to.be.instanceOf(ConfigError);
    return (err as Error).message;
  };
  const taken = async () => {
    const a = await FsL2Adapter.open({ path: dir });
    open.push(a);
    expect(await lockPid()).to.equal(process.pid);
    expect(parseOwner(await readFile(join(dir, LOCK_FILE), 'utf8'))?.start).to.equal(processStartTime(process.pid));
  };

  it('refuses a second adapter on the same directory while the first is open, and allows it after close', async () => {
    const first = await FsL2Adapter.open({ path: dir });
    open.push(first);
    expect(await lockPid()).to.equal(process.pid);
    const err = await FsL2Adapter.open({ path: dir }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(dir).and.to.match(/already open by another FsL2Adapter in this process/);
    // The refused open left the owner's lock alone.
    expect(await lockPid()).to.equal(process.pid);
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
    await writeFile(join(dir, LOCK_FILE), `${dead}\n`); // an old pid-only lock file
    const b = await FsL2Adapter.open({ path: dir });
    open.push(b);
    expect(await lockPid()).to.equal(process.pid);
    expect(await b.lookupAndLock([k])).to.deep.equal([true]);
    await b.unlock([k]);
  });

  it('refuses while another live process holds the lock (its pid and start time match)', async () => {
    // The parent of this process is alive for as long as the test runs.
    await writeLock({ pid: process.ppid, start: processStartTime(process.ppid) });
    expect(await refused()).to.include(`process ${process.ppid}`);
  });

  it('refuses an old pid-only lock of a live process', async () => {
    await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(await refused()).to.include(`process ${process.ppid}`);
  });

  it('takes over a lock naming PID 1 with another start time (a SIGKILLed container server restarting as PID 1)', async () => {
    await writeLock({ pid: 1, start: '1' + (processStartTime(1) ?? '0') });
    await taken();
  });

  it('takes over a lock naming our own pid with another start time (pid reused)', async () => {
    await writeLock({ pid: process.pid, start: String(Number(processStartTime(process.pid)) + 1) });
    await taken();
  });

  it('takes over a lock naming a live process of this host whose start time differs (pid reused)', async () => {
    await writeLock({ pid: process.ppid, start: String(Number(processStartTime(process.ppid)) + 7) });
    await taken();
  });

  it('another host: refused while the lock mtime is fresh, taken over once stale (3 refresh intervals)', async () => {
    await writeLock({ pid: process.ppid, host: `not-${hostname()}`, start: '1', boot: 'other-boot' });
    expect(await refused()).to.include(`on not-${hostname()}`);
    const old = new Date(Date.now() - 3 * LOCK_REFRESH_MS - 1000);
    await utimes(join(dir, LOCK_FILE), old, old);
    await taken();
  });

  it('another boot of this host is judged by mtime too', async () => {
    await writeLock({ pid: process.pid, boot: 'a-previous-boot' });
    await refused();
    const old = new Date(Date.now() - 3 * LOCK_REFRESH_MS - 1000);
    await utimes(join(dir, LOCK_FILE), old, old);
    await taken();
  });

  it('the holder refreshes the mtime, and restores the lock file if the directory was removed', async () => {
    const a = await FsL2Adapter.open({ path: dir }, { lockRefreshMs: 0 });
    open.push(a);
    const old = new Date(Date.now() - 3 * LOCK_REFRESH_MS - 1000);
    await utimes(join(dir, LOCK_FILE), old, old);
    await a.refreshLock();
    expect((await stat(join(dir, LOCK_FILE))).mtimeMs).to.be.greaterThan(old.getTime() + 1000);
    await rm(dir, { recursive: true, force: true });
    await a.refreshLock();
    expect(await lockPid()).to.equal(process.pid);
    await refused();
  });
});
