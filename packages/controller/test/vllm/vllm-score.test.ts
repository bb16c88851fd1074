import { expect } from 'chai';
import { waitFor } from '@tierkv/test-utils';
import { CacheController } from '../../src/controller/cache-controller.js';
import { ControllerClient } from '../../src/client/controller-client.js';
import { VllmBlockHasher } from '../../src/vllm/vllm-block-hasher.js';
import { FakeVllmPublisher, stored } from '../helpers/fake-vllm-publisher.js';

const TOKEN = 's3cret';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const BIG = (1n << 60n) + 3n;

describe('vLLM publishers over HTTP, and scoring', function () {
  let pubs: FakeVllmPublisher[];
  let controller: CacheController;
  let base: string;

  beforeEach(async () => {
    pubs = [await new FakeVllmPublisher().start(), await new FakeVllmPublisher().start()];
    controller = new CacheController({ pullPort: 0, routerPort: 0, httpPort: 0, authToken: TOKEN });
    base = (await controller.start()).http!;
  });

  afterEach(async () => {
    await controller.close();
    for (const p of pubs) await p.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = auth) => fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const seen = (name: string) => () => (controller.vllm.list().find((p) => p.name === name)?.stats.batches.applied ?? 0) > 0;

  async function addBoth(): Promise<void> {
    for (const [i, p] of pubs.entries()) {
      const r = await post('/vllm/publishers', { name: `w${i}`, endpoint: p.endpoint, replayEndpoint: p.replayEndpoint, topic: 'kv', model: 'm', blockSize: 4 });
      expect(r.status).to.equal(201);
      await p.warmUp(seen(`w${i}`));
    }
  }

  it('adds, lists and removes publishers at runtime, behind the bearer token', async () => {
    expect((await post('/vllm/publishers', { name: 'w0', endpoint: pubs[0]!.endpoint, model: 'm' }, {})).status).to.equal(401);
    expect((await fetch(`${base}/vllm/publishers`)).status).to.equal(401);
    await addBoth();
    const dup = await post('/vllm/publishers', { name: 'w0', endpoint: pubs[0]!.endpoint, model: 'm' });
    expect(dup.status).to.equal(409);
    const bad = await post('/vllm/publishers', { name: 'w9', endpoint: 'nope', model: 'm' });
    expect(bad.status).to.equal(400);
    const list = (await (await fetch(`${base}/vllm/publishers`, { headers: auth })).json()) as { publishers: { name: string; instanceId: string }[] };
    expect(list.publishers.map((p) => [p.name, p.instanceId])).to.deep.equal([['w0', 'vllm:w0'], ['w1', 'vllm:w1']]);
    await pubs[0]!.publish([stored([1])]);
    await waitFor(() => controller.dumpKeys().get('vllm:w0/0')?.get('gpu')?.size === 1, 'a block of w0');
    const del = await fetch(`${base}/vllm/publishers/w0`, { method: 'DELETE', headers: auth });
    expect(del.status).to.equal(200);
    expect(controller.dumpKeys().has('vllm:w0/0')).to.equal(false);
    expect((await fetch(`${base}/vllm/publishers/w0`, { method: 'DELETE', headers: auth })).status).to.equal(404);
    expect(controller.vllm.list().map((p) => p.name)).to.deep.equal(['w1']);
  });

  it('scores by block hashes (decimal strings, numbers, hex) with medium weights, over HTTP and ZeroMQ', async () => {
    await addBoth();
    // w0: blocks 1..3 on GPU; w1: 1..2 on GPU, 3..4 on CPU.
    await pubs[0]!.publish([stored([1, 2, BIG])]);
    await pubs[1]!.publish([stored([1, 2]), stored([1, 2, BIG, 4], null, [], 4, null, 'CPU')]);
    await waitFor(() => controller.poolUsage().keys === 9, 'all blocks');
    const r = await post('/score', { model: 'm', block_hashes: ['1', 2, BIG.toString(), `0x${(4).toString(16)}`, '5'] });
    expect(r.status).to.equal(200);
    const body = (await r.json()) as { workers: { worker: string; blocks: number; tokens: number; media: Record<string, { blocks: number }>; score: number }[] };
    expect(body.workers.map((w) => [w.worker, w.blocks, w.tokens, w.score])).to.deep.equal([
      ['w1', 4, 16, 3.6], // 1 + 1 + 0.8 + 0.8: a block counts its best medium
      ['w0', 3, 12, 3],
    ]);
    expect(body.workers[0]!.media).to.deep.equal({ gpu: { blocks: 2, tokens: 8 }, cpu: { blocks: 4, tokens: 16 } });
    const weighted = (await (await post('/score', { model: 'm', block_hashes: ['1', '2', BIG.toString()], medium_weights: { GPU: 0.1 } })).json()) as { workers: { worker: string; score: number }[] };
    // w1 holds all three on CPU too (0.8 each beats GPU's 0.1).
    expect(weighted.workers.map((w) => [w.worker, w.score])).to.deep.equal([['w1', 2.4], ['w0', 0.3]]);
    expect((await post('/score', { model: 'm', block_hashes: ['zz'] })).status).to.equal(400);
    expect((await post('/score', { model: 'm' })).status).to.equal(400);
    expect(((await (await post('/score', { model: 'other', block_hashes: ['1'] })).json()) as { workers: unknown[] }).workers).to.deep.equal([]);

    const client = new ControllerClient({ router: controller.addresses.router, authToken: TOKEN });
    try {
      const zs = await client.score({ model: 'm', blockHashes: ['1', '2'], workers: ['w0'] });
      expect(zs.map((w) => [w.worker, w.blocks, w.score])).to.deep.equal([['w0', 2, 2]]);
      let refused: Error | undefined;
      await client.score({ model: 'm', blockHashes: ['nope'] }).catch((e: Error) => (refused = e));
      expect(refused?.message).to.match(/block_hashes/);
    } finally {
      client.close();
    }
    expect(controller.vllm.scoreRequests).to.be.greaterThan(3);
  });

  it('scores by token ids, hashed like vLLM with the publisher block size, LoRA name and cache salt', async () => {
    await addBoth();
    const hasher = new VllmBlockHasher({ algo: 'sha256_cbor', seed: '', blockSize: 4 });
    const tokens = Array.from({ length: 10 }, (_, i) => 100 + i); // 2 full blocks; the tail is never cached
    const plain = hasher.blockHashes(tokens);
    const salted = hasher.blockHashes(tokens, { cacheSalt: 'tenant-a' });
    expect(plain).to.have.length(2);
    expect(salted[0]).to.not.equal(plain[0]);
    await pubs[0]!.publish([stored(plain.map((h) => h))]);
    await pubs[1]!.publish([stored(salted.slice(0, 1))]);
    await waitFor(() => controller.poolUsage().keys === 3, 'blocks');
    const r = (await (await post('/score', { model: 'm', tokens })).json()) as { workers: { worker: string; blocks: number; tokens: number }[] };
    expect(r.workers.map((w) => [w.worker, w.blocks, w.tokens])).to.deep.equal([['w0', 2, 8], ['w1', 0, 0]]);
    const s = (await (await post('/score', { model: 'm', tokens, cache_salt: 'tenant-a' })).json()) as { workers: { worker: string; blocks: number }[] };
    expect(s.workers.map((w) => [w.worker, w.blocks])).to.deep.equal([['w1', 1], ['w0', 0]]);
  });
});
