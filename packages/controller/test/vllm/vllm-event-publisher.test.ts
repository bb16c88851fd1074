import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { ConfigError, MemoryLayout, objectKey, type ObjectKey } from '@tierkv/core';
import { FsL2Adapter, StorageManager } from '@tierkv/storage';
import { createTestMeterProvider, valueOf, waitFor } from '@tierkv/test-utils';
import { VllmEventPublisher, VLLM_REPLAY_END_SEQ } from '../../src/vllm/vllm-event-publisher.js';
import type { VllmEventPublisherOptions } from '../../src/vllm/vllm-publisher-options.js';

const unpackr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
const KIB = 1024;
const layout = MemoryLayout.bytes(KIB);
/** Chunk hashes with the top bit set: above 2^53 and 2^63, so only an exact uint64 survives. */
const hashOf = (n: number) => (0xf000_0000_0000_0000n + BigInt(n)).toString(16);
const keyOf = (n: number, model = 'm') => objectKey(hashOf(n), model);

interface Msg {
  topic: string;
  seq: bigint;
  ts: number;
  events: unknown[][];
  rank: number | null;
}

function decode(frames: Buffer[]): Msg {
  expect(frames).to.have.length(3);
  const [ts, events, rank] = unpackr.unpack(frames[2]!) as [number, unknown[][], number | null];
  return { topic: frames[0]!.toString(), seq: frames[1]!.readBigUInt64BE(0), ts, events, rank };
}

/** A SUB socket collecting every message into `msgs`. */
function subscriber(endpoint: string, topic = ''): { sub: zmq.Subscriber; msgs: Msg[] } {
  const sub = new zmq.Subscriber({ linger: 0 });
  sub.connect(endpoint);
  sub.subscribe(topic);
  const msgs: Msg[] = [];
  void (async () => {
    try {
      for await (const frames of sub) msgs.push(decode(frames));
    } catch {
      /* closed */
    }
  })();
  return { sub, msgs };
}

function write(sm: StorageManager, ks: readonly ObjectKey[]): void {
  const objs = sm.reserveWrite(ks, layout);
  objs.forEach((o) => o!.data.fill(7));
  expect(sm.finishWrite(ks)).to.deep.equal(ks.map(() => true));
}

/** [medium, hash] pairs of every event of `type` in `msgs`. */
function blocks(msgs: readonly Msg[], type: string): string[] {
  const out: string[] = [];
  for (const m of msgs) {
    for (const e of m.events) {
      if (e[0] !== type) continue;
      const medium = type === 'BlockStored' ? e[6] : e[2];
      for (const h of e[1] as bigint[]) out.push(`${String(medium)}:${h.toString(16)}`);
    }
  }
  return out;
}

describe('VllmEventPublisher', function () {
  let dir: string;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tierkv-vllm-pub-'));
  });

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  });

  async function setup(extra: Partial<VllmEventPublisherOptions> = {}, l1Bytes = 64 * KIB) {
    const fs = await FsL2Adapter.open({ path: dir });
    const sm = new StorageManager({ l1: { capacityBytes: l1Bytes, lockSweepIntervalMs: 0 }, l2: [fs] });
    cleanups.push(() => sm.close());
    const meters = createTestMeterProvider();
    cleanups.push(() => meters.shutdown());
    const pub = new VllmEventPublisher({ endpoint: 'tcp://127.0.0.1:0', replayEndpoint: 'tcp://127.0.0.1:0', blockSize: 256, topic: 'kv@tierkv', flushIntervalMs: 5, meterProvider: meters.meterProvider, ...extra });
    cleanups.push(() => pub.close());
    await pub.start(sm);
    const { sub, msgs } = subscriber(pub.endpoint!, 'kv@tierkv');
    cleanups.push(() => sub.close());
    // A SUB misses what is published before its connection is up: write probe keys (another model)
    // until one arrives, then every later batch reaches it.
    let probe = 0;
    await waitFor(
      () => {
        if (msgs.length > 0) return true;
        write(sm, [keyOf(probe++, 'probe')]);
        return false;
      },
      'the subscriber to receive a first batch',
      20_000,
      100,
    );
    await sm.flush();
    await pub.flush();
    return { sm, pub, msgs, meters };
  }

  it('publishes BlockStored/BlockRemoved for L1 (CPU) and fs L2 (DISK) writes, evictions and deletes', async () => {
    const { sm, pub, msgs, meters } = await setup();
    const base = msgs.length;
    const ks = [1, 2, 3].map((n) => keyOf(n));
    write(sm, ks);
    await sm.flush(); // the write-through to the fs tier
    await waitFor(() => blocks(msgs.slice(base), 'BlockStored').length >= 6, 'stored events for L1 and L2');
    const stored = blocks(msgs.slice(base), 'BlockStored');
    for (const n of [1, 2, 3]) {
      expect(stored).to.include(`CPU:${hashOf(n)}`);
      expect(stored).to.include(`DISK:${hashOf(n)}`);
    }
    const m = msgs[base]!;
    expect(m.topic).to.equal('kv@tierkv');
    expect(m.rank).to.equal(null);
    expect(Math.abs(m.ts - Date.now() / 1000)).to.be.below(60);
    const e = m.events[0]!;
    // [tag, hashes, parent, token_ids, block_size, lora_id, medium, lora_name, extra_keys, group_idx]
    expect(e).to.have.length(10);
    expect([e[2], e[3], e[4], e[5], e[7]]).to.deep.equal([null, [], 256, null, null]);
    // Sequence numbers count from 0 with no gap.
    expect(msgs.map((x) => Number(x.seq))).to.deep.equal(msgs.map((_, i) => i));

    const before = msgs.length;
    expect(await sm.delete([ks[0]!])).to.deep.equal(['deleted']);
    await waitFor(() => blocks(msgs.slice(before), 'BlockRemoved').length >= 2, 'removed events for L1 and L2');
    expect(blocks(msgs.slice(before), 'BlockRemoved').sort()).to.deep.equal([`CPU:${hashOf(1)}`, `DISK:${hashOf(1)}`].sort());

    const collected = await meters.collect();
    expect(valueOf(collected, 'tierkv.vllm_publisher.events.published', { 'tierkv.vllm.event.type': 'BlockStored' })).to.be.greaterThan(0);
    expect(valueOf(collected, 'tierkv.vllm_publisher.blocks.published', { 'tierkv.vllm.event.type': 'BlockRemoved' })).to.equal(2);
    expect(valueOf(collected, 'tierkv.vllm_publisher.batches.published')).to.equal(pub.nextSeq);
  });

  it('an L1 eviction is a BlockRemoved on CPU while the DISK copy stays stored', async () => {
    const { sm, msgs } = await setup({}, 16 * KIB);
    const base = msgs.length;
    const ks = Array.from({ length: 40 }, (_, i) => keyOf(100 + i));
    for (const k of ks) {
      write(sm, [k]);
      await sm.flush();
    }
    await waitFor(() => blocks(msgs.slice(base), 'BlockRemoved').some((b) => b === `CPU:${hashOf(100)}`), 'the eviction of the first key from L1');
    expect(blocks(msgs.slice(base), 'BlockRemoved').filter((b) => b.startsWith('DISK:'))).to.deep.equal([]);
    await waitFor(() => blocks(msgs.slice(base), 'BlockStored').includes(`DISK:${hashOf(139)}`), 'the last key on DISK');
  });

  it('replays a missed range from the ROUTER, then the end marker; a start below the oldest retained starts at the oldest', async () => {
    const { sm, pub, msgs, meters } = await setup({ replayBufferBatches: 4 });
    for (let i = 0; i < 8; i++) {
      write(sm, [keyOf(200 + i)]);
      await sm.flush();
      await pub.flush();
    }
    await waitFor(() => msgs.length === pub.nextSeq, 'every batch on the SUB');
    const [oldest, newest] = pub.retained!;
    expect(newest - oldest).to.equal(3);
    expect(newest).to.equal(pub.nextSeq - 1);

    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000 });
    cleanups.push(() => dealer.close());
    dealer.connect(pub.replayEndpoint!);
    const replay = async (start: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(start);
      await dealer.send(['', b]);
      const got: Buffer[][] = [];
      for (;;) {
        const frames = await dealer.receive();
        expect(frames[0]!.length).to.equal(0);
        if (frames[1]!.equals(VLLM_REPLAY_END_SEQ)) {
          expect(frames).to.have.length(3);
          expect(frames[2]!.length).to.equal(0);
          return got;
        }
        got.push(frames.slice(1));
      }
    };
    // A missed range: the last two batches, byte for byte what the PUB sent.
    const lastTwo = await replay(BigInt(newest - 1));
    expect(lastTwo.map((f) => Number(f[0]!.readBigUInt64BE(0)))).to.deep.equal([newest - 1, newest]);
    const live = msgs.find((m) => Number(m.seq) === newest)!;
    const replayed = unpackr.unpack(lastTwo[1]![1]!) as [number, unknown[][], null];
    expect(replayed[1]).to.deep.equal(live.events);
    // Below the oldest retained: from the oldest, so the subscriber sees the gap.
    const all = await replay(0n);
    expect(all.map((f) => Number(f[0]!.readBigUInt64BE(0)))).to.deep.equal([oldest, oldest + 1, oldest + 2, newest]);
    expect(oldest).to.be.greaterThan(0);
    // Past the newest: only the end marker.
    expect(await replay(BigInt(newest + 1))).to.deep.equal([]);
    // A malformed request is ignored and counted.
    await dealer.send(['', Buffer.from('x')]);
    const collected = await waitFor(async () => {
      const c = await meters.collect();
      return valueOf(c, 'tierkv.vllm_publisher.replay.requests', { 'tierkv.vllm.replay.outcome': 'invalid' }) === 1 ? c : undefined;
    }, 'the invalid request to be counted');
    expect(valueOf(collected, 'tierkv.vllm_publisher.replay.requests', { 'tierkv.vllm.replay.outcome': 'served' })).to.equal(3);
    expect(valueOf(collected, 'tierkv.vllm_publisher.replay.batches')).to.equal(6);
  });

  it('publishes what L1 held before it attached; l2Media null leaves an adapter unpublished', async () => {
    const fs = await FsL2Adapter.open({ path: dir });
    const sm = new StorageManager({ l1: { capacityBytes: 64 * KIB, lockSweepIntervalMs: 0 }, l2: [fs] });
    cleanups.push(() => sm.close());
    write(sm, [keyOf(300), keyOf(301)]);
    const pub = new VllmEventPublisher({ endpoint: 'tcp://127.0.0.1:0', blockSize: 16, l2Media: { fs: null } });
    cleanups.push(() => pub.close());
    await pub.start(sm);
    await sm.flush();
    await pub.flush();
    expect(pub.nextSeq).to.equal(1);
    expect(pub.stats.blocks.BlockStored).to.equal(2); // the fs tier is not published (l2Media.fs = null)
    expect(pub.replayEndpoint).to.equal(undefined);
  });

  it('refuses bad or unknown options with a typed error naming the field', () => {
    const bad: [unknown, string][] = [
      [{ blockSize: 16 }, 'vllmEvents.endpoint'],
      [{ endpoint: 'localhost:1', blockSize: 16 }, 'vllmEvents.endpoint'],
      [{ endpoint: 'tcp://*:1' }, 'vllmEvents.blockSize'],
      [{ endpoint: 'tcp://*:1', blockSize: 0 }, 'vllmEvents.blockSize'],
      [{ endpoint: 'tcp://*:1', blockSize: 16, replayEndpoint: 5 }, 'vllmEvents.replayEndpoint'],
      [{ endpoint: 'tcp://*:1', blockSize: 16, dataParallelRank: -1 }, 'vllmEvents.dataParallelRank'],
      [{ endpoint: 'tcp://*:1', blockSize: 16, l2Media: { fs: '' } }, 'vllmEvents.l2Media.fs'],
      [{ endpoint: 'tcp://*:1', blockSize: 16, replayBufferBatches: 0 }, 'vllmEvents.replayBufferBatches'],
      [{ endpoint: 'tcp://*:1', blockSize: 16, topics: 'x' }, 'vllmEvents.topics'],
    ];
    for (const [o, field] of bad) {
      expect(() => new VllmEventPublisher(o as VllmEventPublisherOptions), field).to.throw(ConfigError).with.property('field', field);
    }
  });
});
