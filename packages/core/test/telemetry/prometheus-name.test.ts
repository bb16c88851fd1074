import { expect } from 'chai';
import { METRIC_CATALOG, prometheusMetricName, prometheusName, prometheusUnit } from '../../src/index.js';

describe('prometheusMetricName (OpenTelemetry → Prometheus compatibility, with suffixes)', () => {
  const cases: [string, string, Parameters<typeof prometheusMetricName>[2], string][] = [
    ['tierkv.l1.memory.used', 'By', 'updowncounter', 'tierkv_l1_memory_used_bytes'],
    ['tierkv.l2.operation.duration', 's', 'histogram', 'tierkv_l2_operation_duration_seconds'],
    ['app.wait', 'ms', 'gauge', 'app_wait_milliseconds'],
    ['tierkv.l2.stored', '{chunk}', 'counter', 'tierkv_l2_stored_total'],
    ['tierkv.server.sent', 'By', 'counter', 'tierkv_server_sent_bytes_total'],
    ['tierkv.l2.bytes', 'By', 'counter', 'tierkv_l2_bytes_total'],
    ['app.requests_total', '{request}', 'counter', 'app_requests_total'],
    ['app.total.reads', '{read}', 'counter', 'app_reads_total'],
    ['app.progress', '1', 'gauge', 'app_progress_ratio'],
    ['app.fill_ratio', '1', 'gauge', 'app_fill_ratio'],
    ['app.share', '1', 'updowncounter', 'app_share'],
    ['app.hits', '1', 'counter', 'app_hits_total'],
    ['app.rate', 'By/s', 'gauge', 'app_rate_bytes_per_second'],
    ['app.events', '{event}/s', 'gauge', 'app_events_per_second'],
    ['app.temp', 'Cel', 'gauge', 'app_temp_celsius'],
    ['app.dropped', 'packets', 'counter', 'app_dropped_packets_total'],
    ['app..odd__name-', '', 'gauge', 'app_odd_name'],
    ['2xx.count', '', 'counter', '_2xx_count_total'],
  ];
  for (const [name, unit, type, want] of cases) {
    it(`${name} (${unit || 'no unit'}, ${type}) → ${want}`, () => {
      expect(prometheusMetricName(name, unit, type)).to.equal(want);
    });
  }

  it('turns units into Prometheus words', () => {
    expect(prometheusUnit('By')).to.equal('bytes');
    expect(prometheusUnit('s')).to.equal('seconds');
    expect(prometheusUnit('{chunk}')).to.equal('');
    expect(prometheusUnit('1')).to.equal('');
    expect(prometheusUnit('By/s')).to.equal('bytes_per_second');
  });

  it('no catalog name carries a brace unit, and no two catalog metrics share a Prometheus name', () => {
    const names = METRIC_CATALOG.map(prometheusName);
    expect(names.filter((n) => /[{}]/.test(n))).to.deep.equal([]);
    expect(new Set(names).size).to.equal(names.length);
  });
});
