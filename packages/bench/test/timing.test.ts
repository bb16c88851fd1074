import { expect } from 'chai';
import { interleave, interleaveAsync, rate } from '../src/timing.js';

describe('timing', () => {
  it('rate runs at least the minimum rounds and reports work per second', () => {
    let rounds = 0;
    const r = rate(0, () => (rounds++, 10), 3);
    expect(rounds).to.equal(3);
    expect(r).to.be.greaterThan(0);
  });

  it('interleave alternates the subjects slice by slice (A B, B A, …)', () => {
    const order: string[] = [];
    const rates = interleave(0, [() => (order.push('a'), 1), () => (order.push('b'), 1)], 4);
    expect(order).to.deep.equal(['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
    expect(rates).to.have.length(2);
    for (const r of rates) expect(r).to.be.greaterThan(0);
  });

  it('interleaveAsync does the same for asynchronous rounds', async () => {
    const order: string[] = [];
    const round = (name: string) => async () => (order.push(name), 1);
    await interleaveAsync(0, [round('a'), round('b'), round('c')], 2);
    expect(order).to.deep.equal(['a', 'b', 'c', 'c', 'b', 'a']);
  });
});
