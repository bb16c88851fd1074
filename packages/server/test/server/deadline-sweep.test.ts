import { expect } from 'chai';
import { waitFor } from '@tierkv/test-utils';
import { DeadlineSweep } from '../../src/server/deadline-sweep.js';

describe('server/DeadlineSweep', () => {
  it('expires each item once, after its deadline and never before, and forgets removed ones', async () => {
    const sweep = new DeadlineSweep(5);
    const fired: string[] = [];
    const item = (name: string, inMs: number) => {
      const deadline = performance.now() + inMs;
      return { deadline, expire: () => fired.push(`${name}:${performance.now() >= deadline}`) };
    };
    const soon = item('soon', 20);
    const late = item('late', 60_000);
    const removed = item('removed', 10);
    sweep.add(soon);
    sweep.add(late);
    sweep.add(removed);
    sweep.delete(removed);
    await waitFor(() => fired.length > 0, 'the first deadline');
    expect(fired).to.deep.equal(['soon:true']);
    expect(sweep.size).to.equal(1);
    sweep.clear();
    expect(sweep.size).to.equal(0);
  });
});
