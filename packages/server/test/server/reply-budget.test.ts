import { expect } from 'chai';
import fc from 'fast-check';
import { ReplyBudget, type ReplyAccount, type ShedReason } from '../../src/server/reply-budget.js';

function harness(perClient: number, total: number) {
  const shed: [string, ShedReason][] = [];
  const budget: ReplyBudget<string> = new ReplyBudget<string>({ maxBytesPerClient: perClient, maxBytes: total, onShed: (c, reason) => shed.push([c, reason]) });
  return { budget, shed };
}

describe('server/ReplyBudget', () => {
  it('keeps a running total: charged when queued, released when the bytes left', () => {
    const { budget, shed } = harness(100, 200);
    const a = budget.open('a');
    const b = budget.open('b');
    budget.charge(a, 30);
    budget.charge(b, 20);
    budget.charge(a, 10);
    expect([budget.bytes, a.bytes, b.bytes]).to.deep.equal([60, 40, 20]);
    budget.release(a, 30);
    budget.release(b, 20);
    expect([budget.bytes, a.bytes, b.bytes]).to.deep.equal([10, 10, 0]);
    expect(budget.peakBytes).to.equal(60);
    expect(shed).to.deep.equal([]);
  });

  it('sheds a client past maxBytesPerClient, once, and counts its bytes toward no limit from then on', () => {
    const { budget, shed } = harness(50, 1_000);
    const a = budget.open('a');
    for (let i = 0; i < 6; i++) budget.charge(a, 10);
    expect(shed).to.deep.equal([['a', 'client_budget']]);
    expect(a.shedReason).to.equal('client_budget');
    // Its bytes are still charged (over TCP they sit in its socket until it closes) but stand for nothing.
    expect(budget.bytes).to.equal(60);
    expect(budget.peakBytes).to.equal(50);
    budget.charge(a, 10);
    budget.shed(a, 'stalled');
    expect(shed).to.have.length(1);
    budget.release(a, 20);
    budget.close(a);
    expect(budget.bytes).to.equal(0);
  });

  it('sheds the largest holder when all clients pass maxBytes, and the others keep their share', () => {
    const { budget, shed } = harness(100, 120);
    const a = budget.open('a');
    const b = budget.open('b');
    const c = budget.open('c');
    budget.charge(a, 70);
    budget.charge(b, 30);
    budget.charge(c, 30);
    expect(shed).to.deep.equal([['a', 'total_budget']]);
    expect(budget.peakBytes).to.equal(100);
    // What stands after the shed is b and c: the next charge is measured against them only.
    budget.charge(b, 50);
    expect(shed).to.deep.equal([['a', 'total_budget']]);
    budget.charge(c, 20);
    expect(shed).to.deep.equal([['a', 'total_budget'], ['b', 'total_budget']]);
  });

  it('lets onShed close the account at once (a queue throws the replies away) without counting them twice', () => {
    const accounts = new Map<string, ReplyAccount<string>>();
    const budget: ReplyBudget<string> = new ReplyBudget<string>({ maxBytesPerClient: 50, maxBytes: 80, onShed: (c) => budget.close(accounts.get(c)!) });
    for (const k of ['a', 'b', 'c']) accounts.set(k, budget.open(k));
    budget.charge(accounts.get('a')!, 60);
    expect(budget.bytes).to.equal(0);
    budget.charge(accounts.get('b')!, 45);
    budget.charge(accounts.get('c')!, 30);
    budget.charge(accounts.get('c')!, 10);
    expect(budget.bytes).to.equal(40);
    expect(accounts.get('b')!.closed).to.equal(true);
    expect(accounts.get('c')!.closed).to.equal(false);
    expect(budget.peakBytes).to.equal(75);
  });

  it('clamps a release of more than is charged and ignores a charge to a closed account (never throws from a socket callback)', () => {
    const { budget } = harness(100, 200);
    const a = budget.open('a');
    const b = budget.open('b');
    budget.charge(a, 10);
    budget.charge(b, 5);
    budget.release(a, 11);
    expect(budget.bytes, "b's bytes are untouched").to.equal(5);
    budget.close(a);
    budget.close(a);
    budget.charge(a, 1);
    expect(budget.bytes).to.equal(5);
    budget.release(b, 5);
    expect(budget.bytes).to.equal(0);
  });

  it('ends at zero after any interleaving of charges, releases, sheds and closes, never letting more stand than the budgets', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('charge' as const), client: fc.nat(3), bytes: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('release' as const), client: fc.nat(3) }),
      fc.record({ kind: fc.constant('stall' as const), client: fc.nat(3) }),
      fc.record({ kind: fc.constant('close' as const), client: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        // A model of a transport: each client's replies in order; a shed or closed client's account
        // is closed once its replies are let go, and the client comes back with a new account.
        const budget = new ReplyBudget<number>({ maxBytesPerClient: 60, maxBytes: 100, onShed: () => undefined });
        const clients = [0, 1, 2, 3].map((i) => ({ account: budget.open(i), replies: [] as number[] }));
        const renew = (i: number): void => {
          const c = clients[i]!;
          for (const r of c.replies.splice(0)) budget.release(c.account, r);
          budget.close(c.account);
          clients[i] = { account: budget.open(i), replies: [] };
        };
        for (const o of ops) {
          const c = clients[o.client]!;
          if (o.kind === 'charge') {
            c.replies.push(o.bytes);
            budget.charge(c.account, o.bytes);
          } else if (o.kind === 'release') {
            const r = c.replies.shift();
            if (r !== undefined) budget.release(c.account, r);
          } else if (o.kind === 'stall') budget.shed(c.account, 'stalled');
          else renew(o.client);
          if (c.account.shedReason && o.kind !== 'charge') renew(o.client);
          const standing = clients.filter((x) => !x.account.shedReason);
          expect(standing.reduce((n, x) => n + x.account.bytes, 0)).to.be.at.most(100);
          for (const x of standing) expect(x.account.bytes).to.be.at.most(60);
          expect(budget.bytes).to.equal(clients.reduce((n, x) => n + x.replies.reduce((a, b) => a + b, 0), 0));
        }
        for (let i = 0; i < clients.length; i++) renew(i);
        expect(budget.bytes).to.equal(0);
        expect(budget.peakBytes).to.be.at.most(100);
      }),
    );
  });
});
