import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeKey, MemoryLayout, type ObjectKey } from '@tierkv/core';
import { ServerBusyError, TierkvClient } from '@tierkv/server';
import { FaultyL2Adapter } from '@tierkv/storage/testing';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { Dealer } from 'zeromq';
import { bytesFor, key, sameBytes, spawnFixture, startStack, type ChildServer, type Stack } from './helpers.js';
import { request } from './wire.js';

const CHUNK = 64 * 1024;
const LAYOUT = MemoryLayout.bytes(CHUNK);

describe('server under faults (killed clients, SIGTERM under load)', function () {
  this.timeout(60_000);
  let dir: string;
  let stack: Stack | undefined;
  const children: ChildServer[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tierkv-server-faults-'));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await c.exited;
    }
    await stack?.close();
    stack = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('stays healthy and releases the locks of a client killed while holding them', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    let now = 0;
    stack = await startStack(dir, 16 * 2 ** 20, { lockLeaseMs: 30_000, clientIdleMs: 60_000, sweepIntervalMs: 20, now: () => now, meterProvider });
    const ids = Array.from({ length: 8 }, (_, i) => 100 + i);
    const keys = ids.map((i) => key(i));
    const survivor = stack.client(LAYOUT);
    await survivor.store(keys, ids.map((i) => bytesFor(i, CHUNK)));
    await stack.storage.flush();

    const victim = await spawnFixture('client-process.ts', {
      TIERKV_TEST_ENDPOINT: stack.server.endpoint,
      TIERKV_TEST_KEYS: JSON.stringify(keys.map(encodeKey)),
      TIERKV_TEST_CHUNK_BYTES: String(CHUNK),
    });
    children.push(victim);
    expect(victim.ready['ready']).to.equal(8);
    expect(stack.server.status().locks.held).to.equal(8);
    victim.child.kill('SIGKILL');
    await victim.exited;

    // The server keeps serving everyone else at once…
    const got = await survivor.retrieve(keys);
    got.chunks.forEach((c, n) => expect(sameBytes(c, bytesFor(ids[n]!, CHUNK))).to.equal(true));
    // …and the dead client's locks go when its lease runs out (injected clock: no sleeping).
    now += 30_000;
    await waitFor(() => stack!.server.status().locks.held === 0, 'the killed client\'s locks to be released');
    expect(stack.storage.usage().l1.byState.readLocked).to.equal(0);
    expect(stack.storage.l1.memcheck().ok).to.equal(true);
    expect(valueOf(await collect(), 'tierkv.server.locks.expired')).to.equal(8);
    // Every key can be deleted again, i.e. nothing pins it.
    await stack.storage.delete(keys);
    expect((await survivor.lookup(keys, { prefetch: false })).prefixLength).to.equal(0);
    await shutdown();
  });

  it('cleans up after a raw DEALER that sends a request and disconnects before the reply', async () => {
    const { meterProvider, collect, shutdown } = createTestMeterProvider();
    let slow: FaultyL2Adapter | undefined;
    stack = await startStack(dir, 1024 * 1024, { meterProvider }, (fs) => (slow = new FaultyL2Adapter(fs)));
    const ids = Array.from({ length: 32 }, (_, i) => 200 + i);
    const keys: ObjectKey[] = ids.map((i) => key(i));
    const c = stack.client(LAYOUT);
    for (let j = 0; j < ids.length; j += 8) {
      await c.store(keys.slice(j, j + 8), ids.slice(j, j + 8).map((i) => bytesFor(i, CHUNK)));
      await stack.storage.flush();
    }
    // Early keys were evicted to L2, whose loads now take a while: the peer vanishes mid-request.
    slow!.faults.load.delay(300);
    const raw = new Dealer({ linger: 1_000 });
    raw.connect(stack.server.endpoint);
    await raw.send(request(1, { type: 'lookup', keys: keys.slice(0, 4).map(encodeKey), layout: LAYOUT.toString(), wait: true }));
    await raw.send(request(2, { type: 'retrieve', keys: keys.slice(4, 8).map(encodeKey), layout: LAYOUT.toString() }));
    await waitFor(() => stack!.server.status().requests.inFlight >= 2, 'requests in flight');
    raw.close();
    await waitFor(() => stack!.server.status().requests.inFlight === 0, 'abandoned requests to finish');
    await waitFor(() => stack!.server.status().locks.held === 0, 'locks of vanished peers released', 10_000);
    await stack.storage.flush();
    expect(stack.storage.usage().l1.byState.readLocked).to.equal(0);
    slow!.faults.load.never();
    expect(valueOf(await collect(), 'tierkv.server.replies.dropped', { 'tierkv.drop.reason': 'peer_gone' })).to.be.greaterThan(0);
    const got = await c.retrieve(keys.slice(0, 8));
    got.chunks.forEach((chunk, n) => expect(sameBytes(chunk, bytesFor(ids[n]!, CHUNK))).to.equal(true));
    await shutdown();
  });

  it('loses no acknowledged write when SIGTERM arrives during load', async () => {
    // Default storage options: past its write-through backlog bound (25% of L1) the storage
    // refuses new writes and the server answers BUSY (not acknowledged, retried), never an
    // acknowledged write that does not reach L2.
    const env = { TIERKV_TEST_DIR: dir, TIERKV_TEST_L1_BYTES: String(4 * 2 ** 20) };
    const first = await spawnFixture('server-process.ts', env);
    children.push(first);
    const acked = new Map<number, ObjectKey>();
    const survivor = new TierkvClient({ endpoint: first.endpoint, layout: LAYOUT, timeoutMs: 10_000 });
    await survivor.ping();
    const clients = Array.from({ length: 4 }, () => new TierkvClient({ endpoint: first.endpoint, layout: LAYOUT, timeoutMs: 2_000, reconnectOnTimeout: false }));
    let stop = false;
    let busy = 0;
    const writers = clients.map(async (c, ci) => {
      for (let n = 0; !stop; n++) {
        const ids = [0, 1, 2, 3].map((j) => ci * 100_000 + n * 4 + j);
        try {
          const res = await c.store(ids.map((i) => key(i)), ids.map((i) => bytesFor(i, CHUNK)));
          res.stored.forEach((ok, j) => ok && acked.set(ids[j]!, key(ids[j]!)));
        } catch (err) {
          // BUSY (L2 write-through behind, or in-flight limits): nothing stored; retry the same keys.
          if (err instanceof ServerBusyError) {
            busy++;
            n--;
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          // Refused (SHUTTING_DOWN) or cut off by the shutdown: not acknowledged, so not promised.
          return;
        }
      }
    });
    await waitFor(() => acked.size >= 200, 'some writes acknowledged', 20_000);
    const t0 = Date.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    stop = true;
    await Promise.all(writers);
    for (const c of clients) c.close();
    expect(exit, first.output()).to.deep.equal({ code: 0, signal: null });
    expect(first.output()).to.match(/shut down cleanly/);
    if (process.env['TIERKV_TEST_VERBOSE']) console.log(`      ${acked.size} acknowledged writes, ${busy} BUSY replies retried; shutdown took ${Date.now() - t0} ms`);

    // The restarted server takes the same port: a client from before the restart carries on.
    const port = first.endpoint.slice(first.endpoint.lastIndexOf(':') + 1);
    const second = await spawnFixture('server-process.ts', { ...env, TIERKV_TEST_PORT: port });
    children.push(second);
    expect(second.endpoint).to.equal(first.endpoint);
    const reader = survivor;
    try {
      const ids = [...acked.keys()];
      let missing = 0;
      let corrupt = 0;
      for (let j = 0; j < ids.length; j += 16) {
        const batch = ids.slice(j, j + 16);
        // A batch answers its ready prefix; a short answer is checked key by key to count the gaps.
        const got = await reader.retrieve(batch.map((id) => key(id)));
        got.chunks.forEach((chunk, n) => corrupt += sameBytes(chunk, bytesFor(batch[n]!, CHUNK)) ? 0 : 1);
        for (const id of batch.slice(got.chunks.length)) {
          const one = await reader.retrieve([key(id)]);
          if (one.chunks.length === 0) missing++;
          else if (!sameBytes(one.chunks[0], bytesFor(id, CHUNK))) corrupt++;
        }
      }
      expect({ missing, corrupt, checked: ids.length }).to.deep.equal({ missing: 0, corrupt: 0, checked: acked.size });
    } finally {
      reader.close();
      second.child.kill('SIGTERM');
      expect((await second.exited).code).to.equal(0);
    }
  });
});
