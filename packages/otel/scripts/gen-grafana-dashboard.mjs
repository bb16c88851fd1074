// Generates docs/grafana-dashboard.json: node packages/otel/scripts/gen-grafana-dashboard.mjs
// Each panel's expressions are checked against a real Prometheus by test/otel/prometheus-server.test.ts.
import { writeFileSync } from 'node:fs';
import { metricDefinition, prometheusName } from '@tierkv/core';

// Prometheus names come from the catalog by the one rule the scrape endpoint also uses (unit
// suffix, `_total`, `_ratio`: the names every OTLP route produces too), so they cannot drift.
const N = (otelName) => prometheusName(metricDefinition(otelName));
const I = '{instance=~"$instance"}';
const sel = (extra = '') => `{instance=~"$instance"${extra ? ',' + extra : ''}}`;
const R = '[$__rate_interval]';
const rate = (m, extra = '') => `rate(${m}${sel(extra)}${R})`;
const p = (q, m, by, extra = '') => `histogram_quantile(${q}, sum by (le${by ? ', ' + by : ''}) (${rate(m + '_bucket', extra)}))`;

const rows = [
  ['L1 memory tier', [
    ['L1 memory used / limit', 'bytes', [[`sum by (instance) (${N('tierkv.l1.memory.used')}${I})`, 'used {{instance}}'], [`sum by (instance) (${N('tierkv.l1.memory.limit')}${I})`, 'limit {{instance}}']]],
    ['L1 objects by state', 'short', [[`sum by (state) (${N('tierkv.l1.objects')}${I})`, '{{state}}']]],
    ['L1 calls per second by operation', 'ops', [[`sum by (operation) (${rate(N('tierkv.l1.batches'))})`, '{{operation}}']]],
    ['L1 chunks read / written per second', 'ops', [[`sum(${rate(N('tierkv.l1.read'))})`, 'read'], [`sum(${rate(N('tierkv.l1.write'))})`, 'written']]],
    ['L1 evictions per second by reason', 'ops', [[`sum by (reason) (${rate(N('tierkv.l1.evicted'))})`, '{{reason}}']]],
    ['L1 read misses per second by reason', 'ops', [[`sum by (reason) (${rate(N('tierkv.l1.read.misses'))})`, '{{reason}}']]],
    ['L1 chunks deleted / allocation failures per second', 'ops', [[`sum(${rate(N('tierkv.l1.deleted'))})`, 'deleted'], [`sum(${rate(N('tierkv.l1.allocation.failures'))})`, 'out of memory']]],
    ['L1 chunk lifetime and idle time before eviction (p50)', 's', [[p(0.5, N('tierkv.l1.chunk.lifetime'), ''), 'lifetime'], [p(0.5, N('tierkv.l1.chunk.idle'), ''), 'idle']]],
    ['L1 batch latency p99 by operation', 's', [[p(0.99, N('tierkv.l1.batch.duration'), 'operation'), '{{operation}}']]],
  ]],
  ['L2 tiers', [
    ['L2 usage / capacity by adapter', 'bytes', [[`sum by (tierkv_l2_adapter) (${N('tierkv.l2.usage')}${I})`, 'used {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${N('tierkv.l2.capacity')}${I})`, 'capacity {{tierkv_l2_adapter}}']]],
    ['L2 chunks stored / loaded per second', 'ops', [[`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.stored'))})`, 'stored {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.loaded'))})`, 'loaded {{tierkv_l2_adapter}}']]],
    ['L2 lookup hit ratio', 'percentunit', [[`sum by (tierkv_l2_adapter) (rate(${N('tierkv.l2.lookups')}${sel('result="hit"')}${R})) / sum by (tierkv_l2_adapter) (rate(${N('tierkv.l2.lookups')}${I}${R}))`, '{{tierkv_l2_adapter}}']]],
    ['L2 bytes per second', 'Bps', [[`sum by (tierkv_l2_adapter, direction) (${rate(N('tierkv.l2.bytes'))})`, '{{direction}} {{tierkv_l2_adapter}}']]],
    ['L2 failed / corrupt chunks per second', 'ops', [[`sum by (tierkv_l2_adapter, operation, reason) (${rate(N('tierkv.l2.failures'))})`, 'failed {{operation}} ({{reason}}) {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.corrupt'))})`, 'corrupt {{tierkv_l2_adapter}}']]],
    ['L2 objects and evictions', 'short', [[`sum by (tierkv_l2_adapter) (${N('tierkv.l2.objects')}${I})`, 'objects {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.evicted'))})`, 'evicted/s {{tierkv_l2_adapter}}']]],
    ['L2 operation latency p99', 's', [[p(0.99, N('tierkv.l2.operation.duration'), 'tierkv_l2_adapter, operation'), '{{operation}} {{tierkv_l2_adapter}}']]],
  ]],
  ['Storage manager', [
    ['Prefix lookup hit ratio by tier', 'percentunit', [[`sum by (tier) (rate(${N('tierkv.storage.prefix_lookup.hit_chunks')}${I}${R})) / ignoring(tier) group_left sum(rate(${N('tierkv.storage.prefix_lookup.requested_chunks')}${I}${R}))`, '{{tier}}']]],
    ['Read / write requests per second', 'reqps', [[`sum(${rate(N('tierkv.storage.read.requests'))})`, 'read'], [`sum(${rate(N('tierkv.storage.write.requests'))})`, 'write']]],
    ['Failed keys per second', 'ops', [[`sum(${rate(N('tierkv.storage.read.failed_keys'))})`, 'read'], [`sum(${rate(N('tierkv.storage.write.failed_keys'))})`, 'write']]],
    ['Store queue depth and drops', 'short', [[`sum(${N('tierkv.storage.store_queue.depth')}${I})`, 'queued batches'], [`sum(${rate(N('tierkv.storage.store.dropped'))})`, 'dropped chunks/s']]],
    ['Active prefetches', 'short', [[`sum(${N('tierkv.storage.prefetch.active')}${I})`, 'active']]],
    ['Prefetch latency p50 / p99', 's', [[p(0.5, N('tierkv.storage.prefetch.duration'), ''), 'p50'], [p(0.99, N('tierkv.storage.prefetch.duration'), ''), 'p99']]],
  ]],
  ['MP-mode server and client', [
    ['Server requests per second by type', 'reqps', [[`sum by (tierkv_request_type) (${rate(N('tierkv.server.requests'))})`, '{{tierkv_request_type}}']]],
    ['Server requests per second by outcome', 'reqps', [[`sum by (tierkv_request_outcome) (${rate(N('tierkv.server.requests'))})`, '{{tierkv_request_outcome}}']]],
    ['Server request latency p99 by type', 's', [[p(0.99, N('tierkv.server.request.duration'), 'tierkv_request_type'), '{{tierkv_request_type}}']]],
    ['Server bytes per second', 'Bps', [[`sum(${rate(N('tierkv.server.received'))})`, 'received'], [`sum(${rate(N('tierkv.server.sent'))})`, 'sent']]],
    ['Clients, sessions, requests in flight', 'short', [[`sum(${N('tierkv.server.clients')}${I})`, 'clients'], [`sum(${N('tierkv.server.sessions')}${I})`, 'sessions'], [`sum(${N('tierkv.server.requests.in_flight')}${I})`, 'in flight']]],
    ['Server locks held / expired', 'short', [[`sum(${N('tierkv.server.locks.held')}${I})`, 'held'], [`sum(${rate(N('tierkv.server.locks.expired'))})`, 'expired/s']]],
    ['Client requests per second by outcome', 'reqps', [[`sum by (tierkv_request_outcome) (${rate(N('tierkv.client.requests'))})`, '{{tierkv_request_outcome}}']]],
    ['Client request latency p99 by type', 's', [[p(0.99, N('tierkv.client.request.duration'), 'tierkv_request_type'), '{{tierkv_request_type}}']]],
    ['Client requests in flight', 'short', [[`sum(${N('tierkv.client.requests.in_flight')}${I})`, 'in flight']]],
  ]],
  ['Cache controller and workers', [
    ['KV pool keys', 'short', [[`sum(${N('tierkv.controller.kv_pool.keys')}${I})`, 'keys']]],
    ['KV pool memory', 'bytes', [[`sum(${N('tierkv.controller.kv_pool.memory')}${I})`, 'memory']]],
    ['Registered workers', 'short', [[`sum(${N('tierkv.controller.workers.registered')}${I})`, 'registered'], [`sum(${rate(N('tierkv.controller.workers.reaped'))})`, 'reaped/s']]],
    ['Messages per second by socket', 'ops', [[`sum by (socket) (${rate(N('tierkv.controller.messages.received'))})`, '{{socket}}']]],
    ['KV operations per second', 'ops', [[`sum by (operation, result) (${rate(N('tierkv.controller.kv.operations'))})`, '{{operation}} {{result}}']]],
    ['Socket pending / active requests', 'short', [[`sum by (socket) (${N('tierkv.controller.socket.pending')}${I})`, 'pending {{socket}}'], [`sum by (socket) (${N('tierkv.controller.socket.active_requests')}${I})`, 'active {{socket}}']]],
    ['Sequence discontinuities per second', 'ops', [[`sum(${rate(N('tierkv.controller.seq.discontinuities'))})`, 'discontinuities']]],
    ['Full syncs requested per second by reason, sessions by outcome', 'ops', [[`sum by (reason) (rate(${N('tierkv.controller.full_sync.requested')}${I}${R}))`, 'requested: {{reason}}'], [`sum by (outcome) (rate(${N('tierkv.controller.full_sync.sessions')}${I}${R}))`, 'ended: {{outcome}}']]],
    ['Controller prefix lookup latency p99', 's', [[p(0.99, N('tierkv.controller.lookup.duration'), ''), 'p99']]],
    ['Full sync: workers by state, progress, missing batches', 'short', [[`sum by (state) (${N('tierkv.controller.full_sync.workers')}${I})`, '{{state}}'], [`max(${N('tierkv.controller.full_sync.progress')}${I})`, 'progress'], [`sum(${N('tierkv.controller.full_sync.missing_batches')}${I})`, 'missing batches']]],
    ['Worker events sent per second', 'ops', [[`sum by (operation) (${rate(N('tierkv.worker.events.sent'))})`, '{{operation}}']]],
    ['Worker tracked keys and pending events', 'short', [[`sum(${N('tierkv.worker.tracked_keys')}${I})`, 'tracked keys'], [`sum(${N('tierkv.worker.events.pending')}${I})`, 'pending events']]],
    ['Controller message latency p99 by type', 's', [[p(0.99, N('tierkv.controller.message.duration'), 'type'), '{{type}}']]],
  ]],
  // docs/vllm.md: the controller following vLLM publishers (ingest, keeping the view true, scoring), and a tierkv server publishing its holdings.
  ['vLLM events', [
    ['vLLM events ingested per second by publisher and type', 'ops', [[`sum by (publisher, type) (${rate(N('tierkv.controller.vllm.events'))})`, '{{publisher}} {{type}}']]],
    ['vLLM decode errors per second by reason', 'ops', [[`sum by (publisher, reason) (${rate(N('tierkv.controller.vllm.decode_errors'))})`, '{{publisher}} {{reason}}']]],
    ['vLLM seq gaps, replays, views cleared per second', 'ops', [[`sum by (publisher) (${rate(N('tierkv.controller.vllm.seq_gaps'))})`, 'gaps {{publisher}}'], [`sum by (outcome) (${rate(N('tierkv.controller.vllm.replays'))})`, 'replays: {{outcome}}'], [`sum by (cause) (${rate(N('tierkv.controller.vllm.views_cleared'))})`, 'cleared: {{cause}}']]],
    ['vLLM blocks by publisher and medium, publishers followed', 'short', [[`sum by (publisher, medium) (${N('tierkv.controller.vllm.blocks')}${I})`, '{{publisher}} {{medium}}'], [`sum(${N('tierkv.controller.vllm.publishers')}${I})`, 'publishers']]],
    ['Score requests per second', 'reqps', [[`sum(${rate(N('tierkv.controller.vllm.score.requests'))})`, 'scores']]],
    ['Score latency p50 / p99', 's', [[p(0.5, N('tierkv.controller.vllm.score.duration'), ''), 'p50'], [p(0.99, N('tierkv.controller.vllm.score.duration'), ''), 'p99']]],
    ['Publisher: events / blocks / batches published per second', 'ops', [[`sum by (type) (${rate(N('tierkv.vllm_publisher.events.published'))})`, 'events {{type}}'], [`sum by (type) (${rate(N('tierkv.vllm_publisher.blocks.published'))})`, 'blocks {{type}}'], [`sum(${rate(N('tierkv.vllm_publisher.batches.published'))})`, 'batches'], [`sum(${rate(N('tierkv.vllm_publisher.blocks.dropped'))})`, 'blocks dropped']]],
    ['Publisher: replay requests and replayed batches per second, retained', 'short', [[`sum by (outcome) (${rate(N('tierkv.vllm_publisher.replay.requests'))})`, 'requests: {{outcome}}'], [`sum(${rate(N('tierkv.vllm_publisher.replay.batches'))})`, 'batches replayed'], [`sum(${N('tierkv.vllm_publisher.replay.retained')}${I})`, 'retained']]],
  ]],
  ['Telemetry pipeline', [
    ['Export failures per second by exporter', 'ops', [[`sum by (exporter) (${rate(N('tierkv.telemetry.export.failures'))})`, '{{exporter}}']]],
    ['Export latency p99 by exporter', 's', [[p(0.99, N('tierkv.telemetry.export.duration'), 'exporter'), '{{exporter}}']]],
    ['Metric callback errors', 'short', [[`sum(${N('tierkv.telemetry.callback.errors')}${I})`, 'errors']]],
  ]],
];

const panels = [];
let id = 1;
let y = 0;
for (const [title, list] of rows) {
  panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
  y += 1;
  list.forEach(([ptitle, unit, exprs], i) => {
    const x = (i % 3) * 8;
    if (i > 0 && i % 3 === 0) y += 8;
    panels.push({
      id: id++,
      type: 'timeseries',
      title: ptitle,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 8, x, y },
      fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'none' } },
      targets: exprs.map(([expr, legendFormat], j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: { type: 'prometheus', uid: '${datasource}' },
        expr,
        legendFormat,
        range: true,
      })),
    });
  });
  y += 8;
}

const dashboard = {
  // Import asks for the Prometheus data source; it becomes the `datasource` variable's default.
  __inputs: [
    {
      name: 'DS_PROMETHEUS',
      label: 'Prometheus',
      description: "The Prometheus that scrapes tierkv's /metrics or receives its OTLP (the metric names are the same on both routes)",
      type: 'datasource',
      pluginId: 'prometheus',
      pluginName: 'Prometheus',
    },
  ],
  __requires: [
    { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
    { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
    { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
  ],
  annotations: { list: [] },
  description: 'tierkv storage (L1, L2, storage manager), MP-mode server, cache controller, vLLM KV events (ingest, scoring, publishing) and telemetry pipeline metrics, by their Prometheus names: the same whether Prometheus scrapes tierkv\'s /metrics or receives OTLP (directly or through a Collector). See docs/metrics.md and docs/observability.md.',
  editable: true,
  graphTooltip: 1,
  panels,
  refresh: '10s',
  schemaVersion: 39,
  tags: ['tierkv', 'opentelemetry'],
  templating: {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: { selected: false, text: 'Prometheus', value: '${DS_PROMETHEUS}' }, hide: 0 },
      {
        name: 'instance',
        label: 'Instance',
        type: 'query',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        definition: 'label_values(target_info, instance)',
        query: { query: 'label_values(target_info, instance)', refId: 'instance' },
        includeAll: true,
        multi: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
        refresh: 2,
        sort: 1,
        hide: 0,
      },
    ],
  },
  time: { from: 'now-1h', to: 'now' },
  timepicker: {},
  timezone: '',
  title: 'tierkv',
  uid: 'tierkv-overview',
  version: 1,
};
writeFileSync(process.argv[2] ?? new URL('../../../docs/grafana-dashboard.json', import.meta.url), JSON.stringify(dashboard, null, 2) + '\n');
