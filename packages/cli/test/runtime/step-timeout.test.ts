import { expect } from 'chai';
import { whileReporting } from '../../src/runtime/step-timeout.js';

describe('whileReporting (graceful shutdown without a deadline)', () => {
  it('waits for the work however long it takes, reporting while it runs, and stops reporting after', async () => {
    let reports = 0;
    let finish!: (v: string) => void;
    const work = new Promise<string>((r) => (finish = r));
    const done = whileReporting(work, 5, () => {
      reports++;
      if (reports === 3) finish('flushed');
    });
    expect(await done).to.equal('flushed');
    const after = reports;
    await new Promise((r) => setTimeout(r, 30));
    expect(reports).to.equal(after);
  });

  it('a throwing report does not end the wait', async () => {
    let calls = 0;
    let finish!: () => void;
    const work = new Promise<void>((r) => (finish = r));
    const done = whileReporting(work, 5, () => {
      calls++;
      if (calls === 2) finish();
      throw new Error('storage closed');
    });
    await done;
    expect(calls).to.be.at.least(2);
  });
});
