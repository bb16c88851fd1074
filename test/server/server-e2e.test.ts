import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKey, MemoryLayout } from '@tierkv/core';
import { Dealer } from 'zeromq';
import { bytesFor, key, sameBytes, startStack, type Stack } from './helpers.js';
import { decodeHeaderForTest, request } from './wire.js';

const CHUNK = 64 * 1024;
const LAYOUT = MemoryLayout.bytes(CHUNK);

describe('server end to end (real StorageManager, filesystem L2, ZeroMQ sockets)', function () {
  this.timeout(30_000);
  let dir: string;
  let stack: Stack | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tierkv-server-e2e-'));
  });

  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves several clients storing and retrieving at once, every byte verified', async () => {
    stack = await startStack(dir, 64 * 2 ** 20);
    const clients = Array.from({ length: 6 }, () => stack!.client(LAYOUT));
    const perClient = 40;
    await Promise.all(
      clients.map(async (c, ci) => {
        const ids = Array.from({ length: perClient }, (_, j) => ci * 1000 + j);
        // Stores in batches of 4 interleaved with retrieves of what is already stored.
        for (let j = 0; j < perClient; j += 4) {
          const batch = ids.slice(j, j + 4);
          const res = await c.store(batch.map((i) => key(i)), batch.map((i) => bytesFor(i, CHUNK)));
          expect(res.stored).to.deep.equal([true, true, true, true]);
          const back = ids.slice(0, j + 4).filter((_, n) => n % 3 === ci % 3);
          const got = await c.retrieve(back.map((i) => key(i)));
          expect(got.chunks).to.have.length(back.length);
          got.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(back[n]!, CHUNK)), `client ${ci} key ${back[n]}`).to.equal(true));
        }
        // Every client reads another client's data too.
        const other = ((ci + 1) % clients.length) * 1000;
        const theirs = Array.from({ length: 8 }, (_, j) => other + j);
        await waitStored(c, theirs);
        const got = await c.retrieve(theirs.map((i) => key(i)));
        got.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(theirs[n]!, CHUNK))).to.equal(true));
      }),
    );
    const status = stack.server.status();
    expect(status.clients.sessions).to.equal(6);
    expect(status.locks.held).to.equal(0);
    // Write-through to L2 reads the objects in the background; once it is done no lock is left.
    await stack.storage.flush();
    expect(stack.storage.usage().l1.byState.readLocked).to.equal(0);
    expect(stack.storage.l1.memcheck().ok).to.equal(true);
  });

  it('looks up and prefetches from the filesystem L2 after L1 evicted the chunks', async () => {
    stack = await startStack(dir, 1024 * 1024);
    const c = stack.client(LAYOUT);
    const ids = Array.from({ length: 48 }, (_, i) => i);
    for (let j = 0; j < ids.length; j += 8) {
      const batch = ids.slice(j, j + 8);
      const res = await c.store(batch.map((i) => key(i)), batch.map((i) => bytesFor(i, CHUNK)));
      expect(res.stored.every(Boolean)).to.equal(true);
      await stack.storage.flush();
    }
    const all = await c.lookup(ids.map((i) => key(i)), { prefetch: false });
    expect(all.prefixLength).to.equal(48);
    expect(all.tiers.slice(0, 8)).to.deep.equal(new Array(8).fill('l2'));

    const first = ids.slice(0, 8).map((i) => key(i));
    const found = await c.lookup(first, { wait: true });
    expect(found.ready).to.equal(8);
    const got = await c.retrieve(first, { prefetchId: found.prefetchId! });
    expect(got.chunks).to.have.length(8);
    got.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(n, CHUNK))).to.equal(true));

    // A plain retrieve loads from L2 by itself.
    const next = ids.slice(8, 14);
    const again = await c.retrieve(next.map((i) => key(i)));
    again.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(next[n]!, CHUNK))).to.equal(true));

    // A prefetch without wait reports pending or ready, and status with wait settles it.
    const later = ids.slice(16, 20).map((i) => key(i));
    const pending = await c.lookup(later);
    const ready = await c.prefetchStatus(pending.prefetchId!, { wait: true });
    expect(ready).to.equal(4);
    expect(await c.release(pending.prefetchId!)).to.equal(4);
    expect(stack.server.status().locks.held).to.equal(0);
    await stack.storage.flush();
    expect(stack.storage.usage().l1.byState.readLocked).to.equal(0);
  });

  it('keeps the data across a server restart on the same filesystem L2', async () => {
    stack = await startStack(dir, 8 * 2 ** 20);
    const ids = Array.from({ length: 24 }, (_, i) => 500 + i);
    const c = stack.client(LAYOUT);
    await c.store(ids.map((i) => key(i)), ids.map((i) => bytesFor(i, CHUNK)));
    await stack.close();
    stack = await startStack(dir, 8 * 2 ** 20);
    const c2 = stack.client(LAYOUT);
    const found = await c2.lookup(ids.map((i) => key(i)), { prefetch: false });
    expect(found.tiers).to.deep.equal(new Array(ids.length).fill('l2'));
    const got = await c2.retrieve(ids.map((i) => key(i)));
    expect(got.chunks).to.have.length(ids.length);
    got.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(ids[n]!, CHUNK))).to.equal(true));
  });

  it('answers bad requests with errors while other clients keep being served', async () => {
    stack = await startStack(dir, 32 * 2 ** 20, { maxPayloadBytes: 1024 * 1024 });
    const good = stack.client(LAYOUT);
    let served = 0;
    let stop = false;
    const steady = (async () => {
      for (let i = 0; !stop; i++) {
        await good.store([key(9000 + i)], [bytesFor(9000 + i, CHUNK)]);
        const got = await good.retrieve([key(9000 + i)]);
        expect(sameBytes(got.chunks[0], bytesFor(9000 + i, CHUNK))).to.equal(true);
        served++;
      }
    })();
    const raw = new Dealer({ linger: 0, receiveTimeout: 5_000 });
    raw.connect(stack.server.endpoint);
    const ask = async (frames: (Uint8Array | string)[]) => {
      await raw.send(frames);
      const [, header] = await raw.receive();
      return decodeHeaderForTest(header!);
    };
    const k = encodeKey(key(1));
    expect(await ask(['hello', 'world'])).to.include({ code: 'MALFORMED' });
    expect(await ask(request(1, { type: 'format_disk' }))).to.include({ code: 'UNKNOWN_TYPE' });
    expect(await ask(request(2, { type: 'store', keys: [k], layout: 'uint8[2000000]' }, [new Uint8Array(2_000_000)]))).to.include({ code: 'TOO_LARGE' });
    expect(await ask(request(3, { type: 'store', keys: [k], layout: LAYOUT.toString() }, [new Uint8Array(CHUNK - 1)]))).to.include({ code: 'LAYOUT_MISMATCH' });
    expect(await ask(request(4, { type: 'store', keys: [k, k], layout: LAYOUT.toString() }, [new Uint8Array(CHUNK)]))).to.include({ code: 'BAD_REQUEST' });
    expect(await ask(request(5, { type: 'lookup', keys: [k], layout: 'int3[4]' }))).to.include({ code: 'BAD_REQUEST', field: 'layout' });
    raw.close();
    await good.store([key(1)], [bytesFor(1, CHUNK)]);
    const wrong = await good.retrieve([key(1)], { layout: MemoryLayout.bytes(CHUNK / 2) }).catch((e: Error & { serverCode?: string }) => e.serverCode);
    expect(wrong).to.equal('LAYOUT_MISMATCH');
    stop = true;
    await steady;
    expect(served).to.be.greaterThan(0);
    await stack.storage.flush();
    expect(stack.storage.usage().l1.byState.readLocked).to.equal(0);
    expect(stack.storage.l1.memcheck().ok).to.equal(true);
  });
});

async function waitStored(c: { lookup: (k: ReturnType<typeof key>[], o: { prefetch: false }) => Promise<{ prefixLength: number }> }, ids: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await c.lookup(ids.map((i) => key(i)), { prefetch: false })).prefixLength < ids.length) {
    if (Date.now() > deadline) throw new Error('peer data never appeared');
    await new Promise((r) => setTimeout(r, 10));
  }
}
