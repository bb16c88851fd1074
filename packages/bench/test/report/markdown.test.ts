import { expect } from 'chai';
import type { BenchReport } from '../../src/report/bench-report.js';
import { formatValue } from '../../src/report/format.js';
import { goalSummary, markdownReport } from '../../src/report/markdown.js';
import { summarize } from '../../src/runner.js';
import { spreadOf } from '../../src/stats.js';

describe('markdown report', () => {
  it('formats values with readable units', () => {
    expect(formatValue(12 * 1024 ** 3, 'B/s')).to.equal('12.0 GiB/s');
    expect(formatValue(3_410_000, 'ops/s')).to.equal('3.41 M ops/s');
    expect(formatValue(18e-6, 's')).to.equal('18.0 µs');
    expect(formatValue(29.5, 'B/chunk')).to.equal('29.5 B/chunk');
  });

  it('renders the header, one row per subject, failures and goal verdicts', () => {
    const subjects = summarize([
      [
        { subject: 'memcpy', value: 10, unit: 'B/s' },
        { subject: 'L1 | fast', value: 9, unit: 'B/s', reference: 'memcpy', goal: 0.8, note: 'n=1' },
      ],
    ]);
    const report: BenchReport = {
      date: '2026-01-01T00:00:00.000Z',
      quick: false,
      repeat: 1,
      warmup: 0,
      machine: { cpu: 'Test CPU', cores: 2, memoryBytes: 2 * 1024 ** 3, os: 'linux', node: 'v20.0.0', loadAverage: { start: 0.5, end: 3 } },
      peers: { 'lru-cache': '11.0.0' },
      scenarios: [
        { name: 'l1.bandwidth', description: 'd', status: 'ok', repetitions: 1, durationS: 1, subjects },
        { name: 'broken', description: 'd', status: 'failed', reason: 'Error: boom', repetitions: 0, durationS: 0, subjects: [] },
      ],
      durationS: 1,
      ok: false,
    };
    const md = markdownReport(report);
    expect(md).to.contain('Test CPU, 2 cores, 2.0 GiB RAM');
    expect(md).to.contain('load average 0.5 at start, 3.0 at end (busier than its cores');
    expect(md).to.contain('lru-cache 11.0.0');
    expect(md).to.contain('| l1.bandwidth | L1 \\| fast <br><sub>n=1</sub> |');
    expect(md).to.contain('0.90 (0.90 – 0.90) | ≥ 0.8 | met |');
    expect(md).to.contain('| broken | *failed*: Error: boom |');
    expect(goalSummary(report)).to.deep.equal(['met     l1.bandwidth: L1 | fast: ratio 0.90 vs memcpy (goal ≥ 0.8)']);
    expect(spreadOf([1]).n).to.equal(1);
  });
});

describe('peer versions', () => {
  it('reads installed versions and ignores words after the name', async () => {
    const { peerVersion } = await import('../../src/report/machine.js');
    expect(peerVersion('lru-cache').version).to.match(/^\d+\.\d+\.\d+/);
    expect(peerVersion('ioredis 5').name).to.equal('ioredis');
    expect(peerVersion('ioredis 5').version).to.match(/^\d+\.\d+\.\d+/);
    expect(peerVersion('thing@1.2.3')).to.deep.equal({ name: 'thing', version: '1.2.3' });
    expect(peerVersion('@scope/none-such-package').version).to.equal('not installed');
  });
});
