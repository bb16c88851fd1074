import { expect } from 'chai';
import type { ShedReason } from '../../src/server/reply-budget.js';
import { ReplyQueue, type SendResult } from '../../src/server/reply-queue.js';
import { waitFor } from '@tierkv/test-utils';

const id = (s: string) => Buffer.from(s, 'latin1');
const frames = (n: number) => [new Uint8Array(n)];

function harness(opts: { perClient: number; total: number; stallMs?: number }) {
  const pipes = new Map<string, SendResult>();
  const delivered: string[] = [];
  const shed: [string, ShedReason, number][] = [];
  const gone: string[] = [];
  let clock = 0;
  const q = new ReplyQueue({
    maxBytesPerClient: opts.perClient,
    maxBytes: opts.total,
    stallMs: opts.stallMs ?? 1_000,
    send: async (identity, f) => {
      const k = identity.toString('latin1');
      const r = pipes.get(k) ?? 'sent';
      if (r === 'sent') delivered.push(`${k}:${f[0]!.byteLength}`);
      return r;
    },
    onShed: (p, reason, n) => shed.push([p, reason, n]),
    onGone: (p) => gone.push(p),
    now: () => clock,
  });
  return { q, pipes, delivered, shed, gone, tick: (ms: number) => (clock += ms) };
}

describe('server/ReplyQueue', () => {
  it('sends at once when the pipe takes it, holding nothing', async () => {
    const h = harness({ perClient: 100, total: 200 });
    h.q.push(id('a'), frames(10), 10);
    await waitFor(() => h.delivered.length === 1, 'delivered');
    expect(h.q.bytes).to.equal(0);
  });

  it('keeps refused replies in order and delivers them once the pipe drains', async () => {
    const h = harness({ perClient: 100, total: 200 });
    h.pipes.set('a', 'full');
    h.q.push(id('a'), frames(10), 10);
    h.q.push(id('a'), frames(20), 20);
    await waitFor(() => h.q.bytes === 30, 'queued');
    h.pipes.set('a', 'sent');
    await waitFor(() => h.delivered.length === 2, 'retried');
    expect(h.delivered).to.deep.equal(['a:10', 'a:20']);
    expect(h.q.bytes).to.equal(0);
  });

  it('sheds a client past its budget and leaves the others alone', async () => {
    const h = harness({ perClient: 50, total: 1_000 });
    h.pipes.set('slow', 'full');
    for (let i = 0; i < 6; i++) h.q.push(id('slow'), frames(10), 10);
    h.q.push(id('ok'), frames(10), 10);
    expect(h.shed).to.deep.equal([['slow', 'client_budget', 6]]);
    await waitFor(() => h.delivered.includes('ok:10'), 'the other client served');
    expect(h.q.peakBytes).to.be.at.most(60);
    expect(h.q.bytes).to.equal(0);
  });

  it('sheds the largest holder when the total budget is exceeded', () => {
    const h = harness({ perClient: 100, total: 120 });
    h.pipes.set('a', 'full');
    h.pipes.set('b', 'full');
    for (let i = 0; i < 8; i++) h.q.push(id('a'), frames(10), 10);
    for (let i = 0; i < 5; i++) h.q.push(id('b'), frames(10), 10);
    expect(h.shed[0]).to.deep.equal(['a', 'total_budget', 8]);
    expect(h.q.bytes).to.equal(50);
    expect(h.q.peakBytes).to.be.at.most(130);
  });

  it("gives every reply's bytes back to the budget exactly once: sent, shed, or cleared", async () => {
    const h = harness({ perClient: 50, total: 80 });
    h.pipes.set('a', 'full');
    h.pipes.set('b', 'full');
    for (let i = 0; i < 4; i++) h.q.push(id('a'), frames(10), 10);
    for (let i = 0; i < 3; i++) h.q.push(id('b'), frames(10), 10);
    h.q.push(id('b'), frames(20), 20);
    // 90 bytes in all: b holds the most and goes; a's 40 stand.
    expect(h.shed).to.deep.equal([['b', 'total_budget', 4]]);
    expect(h.q.bytes).to.equal(40);
    h.pipes.set('a', 'sent');
    await waitFor(() => h.delivered.length === 4, "a's replies delivered");
    expect(h.q.bytes).to.equal(0);
    // A shed client that asks again starts afresh.
    h.pipes.set('b', 'sent');
    h.q.push(id('b'), frames(10), 10);
    await waitFor(() => h.delivered.includes('b:10'), 'b served again');
    h.pipes.set('c', 'full');
    h.q.push(id('c'), frames(10), 10);
    h.q.push(id('c'), frames(10), 10);
    expect(h.q.bytes).to.equal(20);
    h.q.clear();
    expect(h.q.bytes).to.equal(0);
    expect(h.q.peakBytes).to.be.at.most(80);
  });

  it('sheds a client whose oldest reply waited past stallMs, and forgets a gone one', async () => {
    const h = harness({ perClient: 100, total: 200, stallMs: 100 });
    h.pipes.set('a', 'full');
    h.q.push(id('a'), frames(10), 10);
    h.tick(150);
    await waitFor(() => h.shed.length === 1, 'stalled client shed');
    expect(h.shed[0]![1]).to.equal('stalled');
    h.pipes.set('b', 'gone');
    h.q.push(id('b'), frames(10), 10);
    await waitFor(() => h.gone.length === 1, 'gone');
    expect(h.q.bytes).to.equal(0);
  });
});
