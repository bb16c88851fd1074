import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { DemoStats } from '../../src/demo/demo-stats.js';
import { ProgressReporter } from '../../src/demo/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text(): string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text(): string };
  let out = '';
  (stream as unknown as PassThrough).on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(stream, { isTTY, columns: 200, text: () => out });
  return stream;
}

describe('ProgressReporter', () => {
  it('a line has elapsed/duration, requests, rates, hit ratios, errors and the extra text', () => {
    const stats = new DemoStats(performance.now() - 5000);
    stats.requests = 50;
    stats.l1Hits = 3;
    stats.l2Hits = 1;
    stats.misses = 0;
    stats.failedRequests = 2;
    const line = new ProgressReporter(stats, { durationS: 20, stream: fakeStream(false), extra: () => 'L1 1 MiB' }).line();
    expect(line).to.match(/^\[\s+5s\/20s\] 50 req \([0-9.]+ req\/s, .*\/s\) hits L1 75\.0% L2 25\.0% miss 0\.0% errors 2 \| L1 1 MiB$/);
  });

  it('writes plain lines when not a terminal, and redraws in place on one', async () => {
    for (const tty of [false, true]) {
      const stream = fakeStream(tty);
      const progress = new ProgressReporter(new DemoStats(), { durationS: 1, stream, ttyIntervalMs: 5, plainIntervalMs: 5 });
      progress.start();
      // Until two lines were written, however slowly a loaded machine runs the timers.
      while ((tty ? stream.text().split('\r').length : stream.text().split('\n').filter(Boolean).length) < 3) {
        await new Promise((r) => setTimeout(r, 5));
      }
      progress.stop();
      await new Promise((r) => setImmediate(r));
      const text = stream.text();
      if (tty) {
        expect(text).to.contain('\r\x1b[2K[');
        expect(text).to.not.contain('\n');
      } else {
        expect(text).to.not.contain('\r');
        expect(text.split('\n').filter(Boolean).length).to.be.greaterThan(1);
      }
    }
  });
});
