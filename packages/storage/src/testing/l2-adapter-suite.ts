import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import type { L2Adapter } from '../l2/l2-adapter.js';

/** Mocha's BDD globals, taken at call time so this module needs no test-framework dependency. */
interface MochaLike {
  describe(title: string, fn: () => void): void;
  it(title: string, fn: () => Promise<void>): void;
  afterEach(fn: () => Promise<void>): void;
}

export interface L2AdapterSuiteOptions {
  /**
   * Creates an adapter with the given byte budget; enables the budget tests (eviction, pinned
   * objects kept, an object larger than the budget refused). Omit for adapters without a budget.
   */
  createWithBudget?: (capacityBytes: number) => Promise<L2Adapter> | L2Adapter;
  /** Size of the large-object round trip. @default 8 MiB */
  largeObjectBytes?: number;
  /** Per-test timeout in ms (remote adapters may need more). @default 20000 */
  timeoutMs?: number;
}

/**
 * The contract every L2 adapter must pass (after bentocache's driver test suite). Call it from a
 * mocha test file:
 *
 * ```ts
 * registerL2AdapterSuite('MemoryL2Adapter', () => new MemoryL2Adapter(), {
 *   createWithBudget: (capacityBytes) => new MemoryL2Adapter({ capacityBytes }),
 * });
 * ```
 *
 * It assumes nothing about files or processes: every call is awaited, keys are unique per test (a
 * random model name), and each adapter created is closed after its test, so a shared remote
 * backend works too.
 */
export function registerL2AdapterSuite(name: string, createAdapter: () => Promise<L2Adapter> | L2Adapter, options: L2AdapterSuiteOptions = {}): void {
  const g = globalThis as unknown as Partial<MochaLike>;
  if (typeof g.describe !== 'function' || typeof g.it !== 'function' || typeof g.afterEach !== 'function') {
    throw new Error('registerL2AdapterSuite must be called from a mocha test file (describe/it/afterEach are not defined)');
  }
  const { describe, it, afterEach } = g as MochaLike;
  const large = options.largeObjectBytes ?? 8 * 1024 * 1024;
  const timeout = options.timeoutMs ?? 20_000;

  describe(`L2 adapter contract: ${name}`, function (this: { timeout?(ms: number): void }) {
    this.timeout?.(timeout);
    const open: L2Adapter[] = [];
    let model = '';
    const key = (i: number): ObjectKey => objectKey(i.toString(16).padStart(16, '0'), model);
    const make = async (): Promise<L2Adapter> => {
      model = `suite-${randomBytes(6).toString('hex')}`;
      const a = await createAdapter();
      open.push(a);
      return a;
    };
    const makeBudget = async (capacityBytes: number): Promise<L2Adapter> => {
      model = `suite-${randomBytes(6).toString('hex')}`;
      const a = await options.createWithBudget!(capacityBytes);
      open.push(a);
      return a;
    };
    const item = (k: ObjectKey, data: Uint8Array) => ({ key: k, layout: MemoryLayout.bytes(data.byteLength), data });
    const loadOne = async (a: L2Adapter, k: ObjectKey, size: number): Promise<Uint8Array | undefined> => {
      const target = new Uint8Array(size);
      const [ok] = await a.load([k], [target]);
      return ok ? target : undefined;
    };

    afterEach(async () => {
      for (const a of open.splice(0)) await a.close().catch(() => undefined);
    });

    it('stores, finds and loads identical bytes', async () => {
      const a = await make();
      const data = randomBytes(4096);
      assert.deepEqual(await a.store([item(key(1), data)]), [true]);
      assert.deepEqual(await a.lookupAndLock([key(1)]), [true]);
      const got = await loadOne(a, key(1), data.length);
      await a.unlock([key(1)]);
      assert.ok(got, 'load answered false for a stored object');
      assert.ok(Buffer.from(got).equals(data), 'loaded bytes differ from stored bytes');
    });

    it('answers a missing key as a miss for lookup, load and delete', async () => {
      const a = await make();
      assert.deepEqual(await a.lookupAndLock([key(9)]), [false]);
      assert.equal(await loadOne(a, key(9), 16), undefined);
      assert.deepEqual(await a.delete([key(9)]), [false]);
      await a.unlock([key(9)]); // unknown keys are ignored
    });

    it('treats a wrong-sized target as a miss and keeps the object', async () => {
      const a = await make();
      const data = randomBytes(1000);
      await a.store([item(key(2), data)]);
      assert.equal(await loadOne(a, key(2), 999), undefined);
      assert.equal(await loadOne(a, key(2), 1001), undefined);
      const got = await loadOne(a, key(2), 1000);
      assert.ok(got && Buffer.from(got).equals(data));
    });

    it('layout from L2: an object stored with another layout of the same size is a miss, and stays', async () => {
      const a = await make();
      const data = randomBytes(1024);
      const stored = new MemoryLayout([[2, 256]], ['float16']);
      const other = new MemoryLayout([[512]], ['float16']); // same 1024 bytes, another shape
      assert.deepEqual(await a.store([{ key: key(3), layout: stored, data }]), [true]);
      const target = new Uint8Array(1024);
      assert.deepEqual(await a.load([key(3)], [target], other), [false], 'loaded under another layout');
      assert.deepEqual(await a.load([key(3)], [target], stored), [true], 'the object was dropped by the mismatch');
      assert.ok(Buffer.from(target).equals(data));
    });

    it('overlapping calls on one key: every load is one whole stored value or a miss, and the end state agrees', async () => {
      const a = await make();
      const size = 4096;
      const va = Buffer.alloc(size, 0xa1);
      const vb = Buffer.alloc(size, 0xb2);
      const k = key(4);
      const isOneOf = (got: Uint8Array | undefined, ...values: Buffer[]) => got === undefined || values.some((v) => Buffer.from(got).equals(v));
      // store/store
      await Promise.all([a.store([item(k, va)]), a.store([item(k, vb)]), a.store([item(k, va)])]);
      const afterStores = await loadOne(a, k, size);
      assert.ok(afterStores && isOneOf(afterStores, va, vb), 'store/store left a value that is neither');
      // store/load
      const [, loaded] = await Promise.all([a.store([item(k, vb)]), loadOne(a, k, size)]);
      assert.ok(isOneOf(loaded, va, vb), 'store/load read a mix of two values');
      // store/delete, then the end state: present ⇔ loadable
      await Promise.all([a.store([item(k, va)]), a.delete([k])]);
      const [present] = await a.lookupAndLock([k]);
      const end = await loadOne(a, k, size);
      if (present) await a.unlock([k]);
      assert.equal(present, end !== undefined, 'lookup and load disagree after store/delete');
      assert.ok(isOneOf(end, va), 'store/delete left foreign bytes');
      // load/delete
      await a.store([item(k, vb)]);
      const [got] = await Promise.all([loadOne(a, k, size), a.delete([k])]);
      assert.ok(isOneOf(got, vb), 'load/delete read a torn value');
      const u = a.usage();
      assert.ok(u.objects >= 0 && u.usedBytes >= 0, 'usage went negative');
    });

    it('overwrites an existing key', async () => {
      const a = await make();
      const first = randomBytes(512);
      const second = randomBytes(512);
      await a.store([item(key(3), first)]);
      assert.deepEqual(await a.store([item(key(3), second)]), [true]);
      const got = await loadOne(a, key(3), 512);
      assert.ok(got && Buffer.from(got).equals(second), 'the second store did not replace the first');
      assert.equal(a.usage().objects, 1);
    });

    it('answers mixed batches per key, in order', async () => {
      const a = await make();
      const d1 = randomBytes(300);
      const d3 = randomBytes(300);
      assert.deepEqual(await a.store([item(key(1), d1), item(key(3), d3)]), [true, true]);
      assert.deepEqual(await a.lookupAndLock([key(1), key(2), key(3)]), [true, false, true]);
      const targets = [new Uint8Array(300), new Uint8Array(300), new Uint8Array(300)];
      assert.deepEqual(await a.load([key(1), key(2), key(3)], targets), [true, false, true]);
      await a.unlock([key(1), key(3)]);
      assert.ok(Buffer.from(targets[0]!).equals(d1) && Buffer.from(targets[2]!).equals(d3));
      assert.deepEqual(await a.delete([key(3), key(2), key(1)]), [true, false, true]);
      assert.deepEqual(await a.lookupAndLock([key(1), key(3)]), [false, false]);
    });

    it('accepts empty batches', async () => {
      const a = await make();
      assert.deepEqual(await a.store([]), []);
      assert.deepEqual(await a.lookupAndLock([]), []);
      assert.deepEqual(await a.load([], []), []);
      assert.deepEqual(await a.delete([]), []);
      await a.unlock([]);
    });

    it('reports usage that follows stores and deletes', async () => {
      const a = await make();
      const before = a.usage();
      await a.store([item(key(1), randomBytes(2048)), item(key(2), randomBytes(2048))]);
      const mid = a.usage();
      assert.equal(mid.objects, before.objects + 2);
      assert.ok(mid.usedBytes >= before.usedBytes + 4096, `usedBytes ${mid.usedBytes} should grow by at least 4096`);
      await a.delete([key(1), key(2)]);
      const after = a.usage();
      assert.equal(after.objects, before.objects);
      assert.equal(after.usedBytes, before.usedBytes);
    });

    it('does not delete a pinned object until every pin is released', async () => {
      const a = await make();
      await a.store([item(key(4), randomBytes(128))]);
      assert.deepEqual(await a.lookupAndLock([key(4)]), [true]);
      assert.deepEqual(await a.lookupAndLock([key(4)]), [true]);
      assert.deepEqual(await a.delete([key(4)]), [false], 'a pinned object must not be deleted');
      await a.unlock([key(4)]);
      assert.deepEqual(await a.delete([key(4)]), [false], 'one pin is still held');
      await a.unlock([key(4)]);
      assert.deepEqual(await a.delete([key(4)]), [true]);
    });

    it(`round-trips a large object (${large} bytes)`, async () => {
      const a = await make();
      const data = randomBytes(large);
      assert.deepEqual(await a.store([item(key(5), data)]), [true]);
      const got = await loadOne(a, key(5), large);
      assert.ok(got && Buffer.from(got).equals(data));
    });

    it('serves overlapping calls on distinct keys', async () => {
      const a = await make();
      const data = Array.from({ length: 16 }, () => randomBytes(256));
      await Promise.all(data.map((d, i) => a.store([item(key(100 + i), d)])));
      const loaded = await Promise.all(data.map((d, i) => loadOne(a, key(100 + i), d.length)));
      loaded.forEach((got, i) => assert.ok(got && Buffer.from(got).equals(data[i]!), `object ${i} differs`));
    });

    it('clears unpinned objects when it supports clear()', async () => {
      const a = await make();
      if (!a.clear) return;
      await a.store([item(key(1), randomBytes(64)), item(key(2), randomBytes(64))]);
      await a.lookupAndLock([key(2)]);
      assert.ok((await a.clear()) >= 1);
      assert.deepEqual(await a.lookupAndLock([key(1)]), [false]);
      assert.ok(await loadOne(a, key(2), 64), 'a pinned object must survive clear()');
      await a.unlock([key(2), key(2)]);
    });

    it('rejects every call after close() with ClosedError', async () => {
      const a = await make();
      await a.store([item(key(1), randomBytes(64))]);
      await a.close();
      await a.close(); // idempotent
      const closed = (e: unknown) => (e as { code?: string }).code === 'ERR_CLOSED';
      await assert.rejects(a.store([item(key(2), randomBytes(8))]), closed);
      await assert.rejects(a.lookupAndLock([key(1)]), closed);
      await assert.rejects(a.load([key(1)], [new Uint8Array(64)]), closed);
      await assert.rejects(a.unlock([key(1)]), closed);
      await assert.rejects(a.delete([key(1)]), closed);
    });

    if (options.createWithBudget) {
      const objectBytes = 16 * 1024;
      // Room for four objects plus any per-object overhead below 2 KiB, not for five.
      const budget = 4 * objectBytes + 8 * 1024;

      it('evicts least recently used objects to stay within its budget', async () => {
        const a = await makeBudget(budget);
        for (let i = 0; i < 4; i++) assert.deepEqual(await a.store([item(key(i), randomBytes(objectBytes))]), [true]);
        // Touch object 0 so object 1 is now the coldest.
        assert.ok(await loadOne(a, key(0), objectBytes));
        assert.deepEqual(await a.store([item(key(4), randomBytes(objectBytes))]), [true]);
        const u = a.usage();
        assert.ok(u.usedBytes <= budget, `usedBytes ${u.usedBytes} exceeds the budget ${budget}`);
        assert.deepEqual(await a.lookupAndLock([key(0), key(1), key(4)]), [true, false, true]);
        await a.unlock([key(0), key(4)]);
      });

      it('never evicts a pinned object', async () => {
        const a = await makeBudget(budget);
        const pinned = randomBytes(objectBytes);
        await a.store([item(key(0), pinned)]);
        assert.deepEqual(await a.lookupAndLock([key(0)]), [true]);
        for (let i = 1; i <= 8; i++) await a.store([item(key(i), randomBytes(objectBytes))]);
        const got = await loadOne(a, key(0), objectBytes);
        assert.ok(got && Buffer.from(got).equals(pinned), 'the pinned object was evicted');
        await a.unlock([key(0)]);
        assert.ok(a.usage().usedBytes <= budget);
      });

      it('refuses an object larger than the whole budget', async () => {
        const a = await makeBudget(budget);
        assert.deepEqual(await a.store([item(key(1), randomBytes(budget + 1))]), [false]);
        assert.deepEqual(await a.lookupAndLock([key(1)]), [false]);
      });
    }
  });
}
