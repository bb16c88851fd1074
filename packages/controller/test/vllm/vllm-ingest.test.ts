import { expect } from 'chai';
import { waitFor } from '@tierkv/test-utils';
import { CacheController } from '../../src/controller/cache-controller.js';
import { FakeVllmPublisher, cleared, removed, stored } from '../helpers/fake-vllm-publisher.js';

const BIG = (1n << 63n) + 987654321n; // above 2^53
const hex = (h: bigint) => h.toString(16).padStart(16, '0');

describe('vLLM KV event ingest', function () {
  let pub: FakeVllmPublisher;
  let controller: CacheController;

  async function startWith(p: Partial<{ replay: boolean; timeoutMs: number }> = {}): Promise<void> {
    pub = await new FakeVllmPublisher().start();
    controller = new CacheController({
      pullPort: 0,
      routerPort: 0,
      httpPort: false,
      vllmReplayTimeoutMs: p.timeoutMs ?? 2_000,
      vllmPublishers: [{ name: 'w1', endpoint: pub.endpoint, ...(p.replay === false ? {} : { replayEndpoint: pub.replayEndpoint }), topic: 'kv', model: 'm' }],
    });
    await controller.start();
    await pub.warmUp(() => stats().batches.applied > 0);
  }

  const info = () => controller.vllm.list()[0]!;
  const stats = () => info().stats;
  /** The publisher's blocks per medium, as hex sets (scope id stripped). */
  const blocks = (): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const [loc, set] of controller.dumpKeys().get('vllm:w1/0') ?? new Map<string, Set<string>>()) out[loc] = [...set].map((k) => k.split(':')[1]!).sort();
    return out;
  };

  afterEach(async () => {
    await controller?.close();
    await pub?.close();
  });

  it('applies BlockStored/BlockRemoved in array and map forms, per medium, with exact uint64 and bin hashes', async () => {
    await startWith();
    const sha = Buffer.alloc(32, 7);
    sha.writeBigUInt64BE(0x1122334455667788n, 24);
    const xxh = Buffer.alloc(16, 9);
    xxh.writeBigUInt64BE(0x99aabbccddeeff00n, 8);
    await pub.publish([stored([1, 2]), stored([BIG], 2, [1], 16, null, 'CPU'), stored([sha, xxh], null, [], 16, null, 'GPU', null, null, 0)]);
    await pub.publish([{ type: 'BlockStored', block_hashes: [3], medium: 'DISK' }, { type: 'BlockRemoved', block_hashes: [2] }], { form: 'map' });
    await waitFor(() => stats().events.BlockRemoved === 1, 'both batches applied');
    expect(blocks()).to.deep.equal({ gpu: [hex(1n), hex(0x1122334455667788n), hex(0x99aabbccddeeff00n)].sort(), cpu: [hex(BIG)], disk: [hex(3n)] });
    expect(stats().events).to.deep.include({ BlockStored: 4, BlockRemoved: 1 });
  });

  it('fills a seq gap by replay (older and newer reply forms)', async () => {
    await startWith();
    for (const form of ['old', 'new'] as const) {
      pub.replayForm = form;
      const base = form === 'old' ? 10 : 20;
      await pub.publish([stored([base + 1])], { lose: true });
      await pub.publish([stored([base + 2])], { lose: true });
      await pub.publish([stored([base + 3])]);
      await waitFor(() => blocks().gpu?.includes(hex(BigInt(base + 3))), 'the live batch');
      expect(blocks().gpu).to.include.members([hex(BigInt(base + 1)), hex(BigInt(base + 2))]);
    }
    expect(stats().seqGaps).to.equal(2);
    expect(stats().replays).to.deep.equal({ ok: 2, partial: 0, failed: 0 });
    expect(info().expectedSeq).to.equal(pub.seq);
    expect(Object.values(stats().cleared).every((v) => v === 0)).to.equal(true);
  });

  it('clears the view on a permanent gap (replay starts later than asked) and counts it', async () => {
    await startWith();
    await pub.publish([stored([1])]);
    await waitFor(() => blocks().gpu?.length === 1, 'block 1');
    await pub.publish([stored([2])], { lose: true });
    pub.buffer.splice(0, pub.buffer.length); // the publisher's ring buffer wrapped
    await pub.publish([stored([3])]);
    await waitFor(() => stats().cleared.replay_incomplete === 1, 'the view cleared');
    await waitFor(() => blocks().gpu?.length === 1, 'rebuilt from the stream');
    expect(blocks().gpu).to.deep.equal([hex(3n)]);
    expect(stats().replays.partial).to.equal(1);
  });

  it('clears the view on a gap without a replay endpoint, and when replay times out', async () => {
    await startWith({ replay: false });
    await pub.publish([stored([1])]);
    await pub.publish([stored([2])], { lose: true });
    await pub.publish([stored([3])]);
    await waitFor(() => stats().cleared.no_replay === 1, 'cleared: no replay');
    expect(blocks().gpu).to.deep.equal([hex(3n)]);
    await controller.close();
    await pub.close();

    await startWith({ timeoutMs: 200 });
    pub.replayMuted = true;
    await pub.publish([stored([1])]);
    await pub.publish([stored([2])], { lose: true });
    await pub.publish([stored([3])]);
    await waitFor(() => stats().cleared.replay_failed === 1, 'cleared: replay failed');
    expect(stats().replays.failed).to.equal(1);
    expect(blocks().gpu).to.deep.equal([hex(3n)]);
  });

  it('clears the view when seq goes backwards (engine restart) and on AllBlocksCleared', async () => {
    await startWith();
    await pub.publish([stored([1, 2])]);
    await waitFor(() => blocks().gpu?.length === 2, 'blocks');
    pub.seq = 0;
    await pub.publish([stored([5])]);
    await waitFor(() => stats().cleared.seq_backwards === 1, 'cleared: restart');
    expect(blocks().gpu).to.deep.equal([hex(5n)]);
    await pub.publish([stored([6], null, [], 16, null, 'CPU'), cleared(), stored([7])]);
    await waitFor(() => stats().cleared.all_blocks_cleared === 1, 'cleared: AllBlocksCleared');
    expect(blocks()).to.deep.equal({ gpu: [hex(7n)] });
  });

  it('counts and drops a malformed payload, then keeps going', async () => {
    await startWith();
    await pub.publish([], { raw: Buffer.from([0x93, 0x01]) });
    await pub.publish([['BlockStored', ['not a hash']]]);
    await pub.publish([removed([1]), stored([8])], { rank: 5 });
    await pub.publish([stored([9])]);
    await waitFor(() => blocks().gpu?.includes(hex(9n)), 'the good batch after');
    expect(stats().decodeErrors).to.include({ msgpack: 1, event: 1, dp_rank: 1 });
    expect(stats().seqGaps).to.equal(0);
    expect(blocks().gpu).to.deep.equal([hex(9n)]);
  });

  it('applies decoded events directly to a named view (applyEvents), without touching the counters', async () => {
    await startWith();
    const before = stats().batches.applied;
    expect(controller.vllm.applyEvents('w1', [{ type: 'BlockStored', hashes: [1n, BIG], parent: undefined, medium: 'cpu', blockSize: 16, loraName: undefined }])).to.equal(true);
    expect(controller.vllm.applyEvents('w1', [{ type: 'BlockRemoved', hashes: [1n], medium: 'cpu' }])).to.equal(true);
    expect(controller.vllm.applyEvents('nobody', [{ type: 'AllBlocksCleared' }])).to.equal(false);
    expect(blocks()).to.deep.equal({ cpu: [hex(BIG)] });
    expect(stats().batches.applied).to.equal(before);
  });
});
