import { expect } from 'chai';
import { crc32 } from 'node:zlib';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, MemoryLayout, encodeKey, objectKey, type ObjectKey } from '@tierkv/core';
import { waitFor } from '@tierkv/test-utils';
import { XXH3_IMPLEMENTATION_ENV, selectXxh3 } from '../../src/l2/checksum/xxh3.js';
import { FsL2Adapter } from '../../src/l2/fs/fs-adapter.js';
import { COARSE_MARGIN_MS, FINE_MARGIN_MS, settledBefore } from '../../src/l2/fs/file-stamp.js';
import type { FsL2AdapterOptions } from '../../src/l2/fs/fs-options.js';
import type { FsL2TestSeams } from '../../src/l2/fs/fs-ops.js';

const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), 'fs-verify');
const bytes = (size: number, seed: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 37 + seed * 11) & 255);
const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });

/**
 * An object file exactly as format version 1 wrote it (36-byte prefix, crc32 of the payload at 28,
 * crc32 of bytes 0..31 + key + layout at 32), built byte by byte, independent of today's encoder.
 */
function v1File(k: ObjectKey, data: Uint8Array): Buffer {
  const keyBytes = Buffer.from(encodeKey(k), 'utf8');
  const layout = Buffer.from(JSON.stringify(MemoryLayout.bytes(data.byteLength).toJSON()), 'utf8');
  const n = 36 + keyBytes.length + layout.length;
  const h = Buffer.alloc(n);
  h.write('TKVO', 0, 'latin1');
  h.writeUInt16LE(1, 4);
  h.writeUInt16LE(0, 6);
  h.writeUInt32LE(n, 8);
  h.writeUInt32LE(keyBytes.length, 12);
  h.writeUInt32LE(layout.length, 16);
  h.writeUInt32LE(data.byteLength, 20);
  h.writeUInt32LE(0, 24);
  h.writeUInt32LE(crc32(data), 28);
  keyBytes.copy(h, 36);
  layout.copy(h, 36 + keyBytes.length);
  h.writeUInt32LE(crc32(h.subarray(36, n), crc32(h.subarray(0, 32))), 32);
  return Buffer.concat([h, data]);
}

describe('FsL2Adapter payload verification', () => {
  const dirs: string[] = [];
  const open: FsL2Adapter[] = [];
  const savedEnv = process.env[XXH3_IMPLEMENTATION_ENV];
  afterEach(async () => {
    if (savedEnv === undefined) delete process.env[XXH3_IMPLEMENTATION_ENV];
    else process.env[XXH3_IMPLEMENTATION_ENV] = savedEnv;
    for (const a of open.splice(0)) await a.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  async function adapterAt(path?: string, extra: Partial<FsL2AdapterOptions> = {}, seams: FsL2TestSeams = {}): Promise<FsL2Adapter> {
    if (!path) {
      path = await mkdtemp(join(tmpdir(), 'tierkv-fsv-'));
      dirs.push(path);
    }
    const a = await FsL2Adapter.open({ path, ...extra }, seams);
    open.push(a);
    return a;
  }
  async function load(a: FsL2Adapter, k: ObjectKey, size: number): Promise<Uint8Array | undefined> {
    const t = new Uint8Array(size);
    const [ok] = await a.load([k], [t]);
    return ok ? t : undefined;
  }
  async function flipPayloadByte(a: FsL2Adapter, k: ObjectKey, fromEnd: number): Promise<void> {
    const file = a.fileOf(k);
    const b = await readFile(file);
    b[b.length - fromEnd]! ^= 0x10;
    await writeFile(file, b);
  }
  /** Until the wall clock is past the file's last change by the margin a verification needs to count. */
  async function settled(file: string): Promise<void> {
    const st = await stat(file);
    await waitFor(() => settledBefore({ ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs }, Date.now()), `${file} to settle`, 10_000, 10);
  }

  it('loads format-1 objects (crc32) written by the previous code, and still catches a corrupted one', async () => {
    const first = await adapterAt();
    const dir = first.options.path;
    const [good, bad] = [key(1), key(2)];
    const [goodFile, badFile] = [first.fileOf(good), first.fileOf(bad)];
    await first.close();
    const [d1, d2] = [bytes(256 * 1024, 1), bytes(256 * 1024, 2)];
    const damaged = v1File(bad, d2);
    damaged[damaged.length - 1000]! ^= 0x01;
    for (const [file, content] of [[goodFile, v1File(good, d1)], [badFile, damaged]] as const) {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    const a = await adapterAt(dir);
    expect(a.usage().objects, 'both headers are sound: both indexed on open').to.equal(2);
    const t = await load(a, good, d1.length);
    expect(t && Buffer.compare(t, d1)).to.equal(0);
    expect(await load(a, bad, d2.length)).to.equal(undefined);
    expect(a.corruptObjects).to.equal(1);
    expect(await a.lookupAndLock([bad])).to.deep.equal([false]);
  });

  it('writes format 2 naming XXH3-64, and a byte flipped anywhere in the payload is a miss', async () => {
    const a = await adapterAt();
    const hasher = await selectXxh3();
    const data = bytes(1024 * 1024, 3);
    for (const [i, fromEnd] of [1, 4096, data.length].entries()) {
      const k = key(10 + i);
      await a.store([item(k, data)]);
      const file = await readFile(a.fileOf(k));
      expect([file.readUInt16LE(4), file.readUInt16LE(6)], 'version 2, algorithm 2 (XXH3-64)').to.deep.equal([2, 2]);
      expect(Buffer.compare(file.subarray(28, 36), Buffer.from(hasher.digest(data)))).to.equal(0);
      await flipPayloadByte(a, k, fromEnd);
      expect(await load(a, k, data.length), `flip ${fromEnd} bytes from the end`).to.equal(undefined);
    }
    expect(a.corruptObjects).to.equal(3);
  });

  it("verify 'once': an unchanged, settled file is trusted after one verified load; a byte changed later is still caught", async () => {
    const a = await adapterAt();
    const k = key(20);
    const data = bytes(64 * 1024, 4);
    await a.store([item(k, data)]);
    await settled(a.fileOf(k));
    expect(await load(a, k, data.length)).to.not.equal(undefined);
    expect(a.verifiedPayloads, 'the first load hashes').to.equal(1);
    for (let i = 0; i < 3; i++) expect(await load(a, k, data.length)).to.not.equal(undefined);
    expect(a.verifiedPayloads, 'later loads of the unchanged file do not').to.equal(1);
    await flipPayloadByte(a, k, 7);
    expect(await load(a, k, data.length)).to.equal(undefined);
    expect(a.corruptObjects).to.equal(1);
  });

  it("verify 'once': a file changed within the margin before its verification is hashed on every load", async () => {
    // A wall clock stuck at the epoch: no file ever looks settled, as right after a write.
    const a = await adapterAt(undefined, {}, { wallClock: () => 0 });
    const k = key(21);
    const data = bytes(8192, 5);
    await a.store([item(k, data)]);
    for (let i = 1; i <= 3; i++) {
      expect(await load(a, k, data.length)).to.not.equal(undefined);
      expect(a.verifiedPayloads).to.equal(i);
    }
  });

  it("verify 'once': a store replaces the object, and its first load is hashed again", async () => {
    const a = await adapterAt();
    const k = key(22);
    await a.store([item(k, bytes(4096, 6))]);
    await settled(a.fileOf(k));
    await load(a, k, 4096);
    await load(a, k, 4096);
    expect(a.verifiedPayloads).to.equal(1);
    await a.store([item(k, bytes(4096, 7))]);
    const t = await load(a, k, 4096);
    expect(t && Buffer.compare(t, bytes(4096, 7))).to.equal(0);
    expect(a.verifiedPayloads).to.equal(2);
  });

  it("verify 'always' hashes every load", async () => {
    const a = await adapterAt(undefined, { verify: 'always' });
    const k = key(23);
    await a.store([item(k, bytes(4096, 8))]);
    await settled(a.fileOf(k));
    for (let i = 1; i <= 3; i++) {
      await load(a, k, 4096);
      expect(a.verifiedPayloads).to.equal(i);
    }
  });

  it('the margin: nanosecond file times need 100 ms, whole-second times 3 s', () => {
    const fine = { ino: 1, size: 1, mtimeMs: 1_000_000.123456, ctimeMs: 1_000_000.123456 };
    expect(settledBefore(fine, fine.ctimeMs + FINE_MARGIN_MS - 1)).to.equal(false);
    expect(settledBefore(fine, fine.ctimeMs + FINE_MARGIN_MS + 1)).to.equal(true);
    const coarse = { ino: 1, size: 1, mtimeMs: 1_000_000, ctimeMs: 1_000_000 };
    expect(settledBefore(coarse, coarse.ctimeMs + FINE_MARGIN_MS + 1)).to.equal(false);
    expect(settledBefore(coarse, coarse.ctimeMs + COARSE_MARGIN_MS + 1)).to.equal(true);
    // The later of the two times counts.
    expect(settledBefore({ ...fine, ctimeMs: fine.mtimeMs + 10_000 }, fine.mtimeMs + 5000)).to.equal(false);
  });

  it('the WebAssembly XXH3 fallback (forced) reads what the native one wrote, and catches damage too', async () => {
    const native = await adapterAt();
    const dir = native.options.path;
    const [k1, k2] = [key(30), key(31)];
    await native.store([item(k1, bytes(300_001, 9))]);
    await native.close();
    process.env[XXH3_IMPLEMENTATION_ENV] = 'wasm';
    const wasm = await adapterAt(dir);
    expect(wasm.hashImplementation).to.equal('wasm');
    const t = await load(wasm, k1, 300_001);
    expect(t && Buffer.compare(t, bytes(300_001, 9))).to.equal(0);
    await wasm.store([item(k2, bytes(5000, 10))]);
    await flipPayloadByte(wasm, k1, 12_345);
    expect(await load(wasm, k1, 300_001)).to.equal(undefined);
    await wasm.close();
    delete process.env[XXH3_IMPLEMENTATION_ENV];
    const again = await adapterAt(dir);
    const t2 = await load(again, k2, 5000);
    expect(t2 && Buffer.compare(t2, bytes(5000, 10))).to.equal(0);
  });

  it('refuses an unknown verify policy, naming the option', async () => {
    let err: unknown;
    try {
      await adapterAt(undefined, { verify: 'sometimes' as 'once' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as ConfigError).message).to.match(/fsL2\.verify/);
  });
});
