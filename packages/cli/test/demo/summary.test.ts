import { expect } from 'chai';
import { DemoStats } from '../../src/demo/demo-stats.js';
import { renderSummary, renderTable } from '../../src/demo/summary.js';

describe('demo summary', () => {
  const stats = (): DemoStats => {
    const s = new DemoStats(0);
    s.requests = 1200;
    s.l1Hits = 600;
    s.l2Hits = 300;
    s.misses = 100;
    s.bytesRetrieved = 900 * 131072;
    s.bytesStored = 100 * 131072;
    s.storedChunks = 100;
    for (let i = 1; i <= 100; i++) s.recordLatency(i);
    return s;
  };

  it('shows requests, hit ratio per tier, bytes, throughput, latency and the metrics URLs', () => {
    const text = renderSummary({
      stats: stats(),
      elapsedS: 10,
      clients: 4,
      seed: 1,
      chunkBytes: 131072,
      tiers: [{ label: 'L1 usage', value: '12 MiB of 256 MiB, 96 chunks' }],
      endpoints: [{ name: 'metrics (Prometheus)', url: 'http://127.0.0.1:9464/metrics' }],
    });
    expect(text).to.match(/│ requests\s+│ 1,200 \(120 req\/s\), 0 failed/);
    expect(text).to.match(/│ hit ratio L1\s+│ 60\.0% \(600 chunks\)/);
    expect(text).to.match(/│ hit ratio L2\s+│ 30\.0% \(300 chunks\)/);
    expect(text).to.match(/│ miss\s+│ 10\.0% \(100 chunks\)/);
    expect(text).to.match(/│ bytes retrieved\s+│ 112\.5 MiB \(11\.25 MiB\/s\)/);
    expect(text).to.match(/│ throughput\s+│ 12\.5 MiB\/s/);
    expect(text).to.match(/│ latency p50 \/ p99\s+│ 51 ms \/ 100 ms/);
    expect(text).to.contain('every retrieved byte matched');
    expect(text).to.match(/│ L1 usage\s+│ 12 MiB of 256 MiB/);
    expect(text).to.contain('http://127.0.0.1:9464/metrics');
  });

  it('shows the scored routing and the requests per server when --vllm ran', () => {
    const s = stats();
    s.scoreRequests = 1200;
    s.scoreMs = 600;
    s.scoredRoutes = 1000;
    s.scorePredictedChunks = 4000;
    s.scoreHitChunks = 3900;
    s.serverRequests[0] = 700;
    s.serverRequests[1] = 500;
    const text = renderSummary({ stats: s, elapsedS: 10, clients: 4, seed: 1, chunkBytes: 131072, tiers: [], endpoints: [] });
    expect(text).to.match(/│ routed by score\s+│ 1,200 scores \(0\.50 ms avg\), 1,000 requests to the best-scored server, which had 3,900 of the 4,000 chunks scored ready \(97\.5%\)/);
    expect(text).to.match(/│ requests by server\s+│ s0 700, s1 500\s+│/);
    // Without --vllm (and with one server) neither row shows.
    const plain = renderSummary({ stats: stats(), elapsedS: 10, clients: 4, seed: 1, chunkBytes: 131072, tiers: [], endpoints: [] });
    expect(plain).to.not.contain('routed by score');
    expect(plain).to.not.contain('requests by server');
  });

  it('reports verification failures and the first errors', () => {
    const s = stats();
    s.verifyFailures = 2;
    s.recordError(new Error('boom'));
    const text = renderSummary({ stats: s, elapsedS: 1, clients: 1, seed: 1, chunkBytes: 1024, tiers: [], endpoints: [] });
    expect(text).to.contain('2 chunks MISMATCHED');
    expect(text).to.contain('error: Error: boom');
    expect(text).to.match(/1 failed/);
  });

  it('draws a table whose lines all have the same width', () => {
    const table = renderTable('title', [['a', 'short'], ['a longer key', 'a much longer value than the others']]);
    const widths = new Set(table.split('\n').map((l) => [...l].length));
    expect(widths.size).to.equal(1);
  });

  it('shows dashes before the first request', () => {
    const text = renderSummary({ stats: new DemoStats(0), elapsedS: 0, clients: 1, seed: 1, chunkBytes: 1024, tiers: [], endpoints: [] });
    expect(text).to.match(/│ hit ratio L1\s+│ - \(0 chunks\)/);
    expect(text).to.match(/│ latency p50 \/ p99\s+│ - \/ -/);
  });
});
