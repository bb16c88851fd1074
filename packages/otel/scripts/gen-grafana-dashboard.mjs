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
const DB = N('db.client.operation.duration');
const p = (q, m, by, extra = '') => `histogram_quantile(${q}, sum by (le${by ? ', ' + by : ''}) (${rate(m + '_bucket', extra)}))`;

const rows = [
  ['L1 memory tier', [
    ['L1 memory used / limit', 'bytes', [[`sum by (instance) (${N('tierkv.l1.memory.used')}${I})`, 'used {{instance}}'], [`sum by (instance) (${N('tierkv.l1.memory.limit')}${I})`, 'limit {{instance}}']]],
    ['L1 objects by state', 'short', [[`sum by (tierkv_l1_object_state) (${N('tierkv.l1.objects')}${I})`, '{{tierkv_l1_object_state}}']]],
    ['L1 calls per second by operation', 'ops', [[`sum by (tierkv_l1_operation) (${rate(N('tierkv.l1.batches'))})`, '{{tierkv_l1_operation}}']]],
    ['L1 chunks read / written per second', 'ops', [[`sum(${rate(N('tierkv.l1.read'))})`, 'read'], [`sum(${rate(N('tierkv.l1.write'))})`, 'written']]],
    ['L1 evictions per second by reason', 'ops', [[`sum by (tierkv_l1_eviction_reason) (${rate(N('tierkv.l1.evicted'))})`, '{{tierkv_l1_eviction_reason}}']]],
    ['L1 read misses per second by reason', 'ops', [[`sum by (tierkv_l1_miss_reason) (${rate(N('tierkv.l1.read.misses'))})`, '{{tierkv_l1_miss_reason}}']]],
    ['L1 chunks deleted / allocation failures per second', 'ops', [[`sum(${rate(N('tierkv.l1.deleted'))})`, 'deleted'], [`sum(${rate(N('tierkv.l1.allocation.failures'))})`, 'out of memory']]],
    ['L1 chunk lifetime and idle time before eviction (p50)', 's', [[p(0.5, N('tierkv.l1.chunk.lifetime'), ''), 'lifetime'], [p(0.5, N('tierkv.l1.chunk.idle'), ''), 'idle']]],
    ['L1 batch latency p99 by operation', 's', [[p(0.99, N('tierkv.l1.batch.duration'), 'tierkv_l1_operation'), '{{tierkv_l1_operation}}']]],
  ]],
  ['L2 tiers', [
    ['L2 usage / capacity by adapter', 'bytes', [[`sum by (tierkv_l2_adapter) (${N('tierkv.l2.usage')}${I})`, 'used {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${N('tierkv.l2.capacity')}${I})`, 'capacity {{tierkv_l2_adapter}}']]],
    ['L2 chunks stored / loaded per second', 'ops', [[`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.stored'))})`, 'stored {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.loaded'))})`, 'loaded {{tierkv_l2_adapter}}']]],
    ['L2 lookup hit ratio', 'percentunit', [[`sum by (tierkv_l2_adapter) (rate(${N('tierkv.l2.lookups')}${sel('tierkv_l2_lookup_result="hit"')}${R})) / sum by (tierkv_l2_adapter) (rate(${N('tierkv.l2.lookups')}${I}${R}))`, '{{tierkv_l2_adapter}}']]],
    ['L2 bytes per second', 'Bps', [[`sum by (tierkv_l2_adapter, tierkv_l2_direction) (${rate(N('tierkv.l2.bytes'))})`, '{{tierkv_l2_direction}} {{tierkv_l2_adapter}}']]],
    ['L2 failed / corrupt chunks per second', 'ops', [[`sum by (tierkv_l2_adapter, tierkv_l2_operation, tierkv_l2_failure_reason) (${rate(N('tierkv.l2.failures'))})`, 'failed {{tierkv_l2_operation}} ({{tierkv_l2_failure_reason}}) {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.corrupt'))})`, 'corrupt {{tierkv_l2_adapter}}']]],
    ['L2 objects and evictions', 'short', [[`sum by (tierkv_l2_adapter) (${N('tierkv.l2.objects')}${I})`, 'objects {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate(N('tierkv.l2.evicted'))})`, 'evicted/s {{tierkv_l2_adapter}}']]],
    ['L2 operation latency p99', 's', [[p(0.99, N('tierkv.l2.operation.duration'), 'tierkv_l2_adapter, tierkv_l2_operation'), '{{tierkv_l2_operation}} {{tierkv_l2_adapter}}']]],
  ]],
  ['Storage manager', [
    ['Prefix lookup hit ratio by tier', 'percentunit', [[`sum by (tierkv_storage_tier) (rate(${N('tierkv.storage.prefix_lookup.hit_chunks')}${I}${R})) / ignoring(tierkv_storage_tier) group_left sum(rate(${N('tierkv.storage.prefix_lookup.requested_chunks')}${I}${R}))`, '{{tierkv_storage_tier}}']]],
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
    ['Messages per second by socket', 'ops', [[`sum by (tierkv_controller_socket) (${rate(N('tierkv.controller.messages.received'))})`, '{{tierkv_controller_socket}}']]],
    ['KV operations per second', 'ops', [[`sum by (tierkv_kv_operation, tierkv_kv_result) (${rate(N('tierkv.controller.kv.operations'))})`, '{{tierkv_kv_operation}} {{tierkv_kv_result}}']]],
    ['Socket pending / active requests', 'short', [[`sum by (tierkv_controller_socket) (${N('tierkv.controller.socket.pending')}${I})`, 'pending {{tierkv_controller_socket}}'], [`sum by (tierkv_controller_socket) (${N('tierkv.controller.socket.active_requests')}${I})`, 'active {{tierkv_controller_socket}}']]],
    ['Sequence discontinuities per second', 'ops', [[`sum(${rate(N('tierkv.controller.seq.discontinuities'))})`, 'discontinuities']]],
    ['Full syncs requested per second by reason, sessions by outcome', 'ops', [[`sum by (tierkv_full_sync_reason) (rate(${N('tierkv.controller.full_sync.requested')}${I}${R}))`, 'requested: {{tierkv_full_sync_reason}}'], [`sum by (tierkv_full_sync_outcome) (rate(${N('tierkv.controller.full_sync.sessions')}${I}${R}))`, 'ended: {{tierkv_full_sync_outcome}}']]],
    ['Controller prefix lookup latency p99', 's', [[p(0.99, N('tierkv.controller.lookup.duration'), ''), 'p99']]],
    ['Full sync: workers by state, progress, missing batches', 'short', [[`sum by (tierkv_full_sync_state) (${N('tierkv.controller.full_sync.workers')}${I})`, '{{tierkv_full_sync_state}}'], [`max(${N('tierkv.controller.full_sync.progress')}${I})`, 'progress'], [`sum(${N('tierkv.controller.full_sync.missing_batches')}${I})`, 'missing batches']]],
    ['Worker events sent per second', 'ops', [[`sum by (tierkv_kv_operation) (${rate(N('tierkv.worker.events.sent'))})`, '{{tierkv_kv_operation}}']]],
    ['Worker tracked keys and pending events', 'short', [[`sum(${N('tierkv.worker.tracked_keys')}${I})`, 'tracked keys'], [`sum(${N('tierkv.worker.events.pending')}${I})`, 'pending events']]],
    ['Controller message latency p99 by type', 's', [[p(0.99, N('tierkv.controller.message.duration'), 'tierkv_controller_message_type'), '{{tierkv_controller_message_type}}']]],
  ]],
  // docs/vllm.md: the controller following vLLM publishers (ingest, keeping the view true, scoring), and a tierkv server publishing its holdings.
  ['vLLM events', [
    ['vLLM events ingested per second by publisher and type', 'ops', [[`sum by (tierkv_vllm_publisher, tierkv_vllm_event_type) (${rate(N('tierkv.controller.vllm.events'))})`, '{{tierkv_vllm_publisher}} {{tierkv_vllm_event_type}}']]],
    ['vLLM decode errors per second by reason', 'ops', [[`sum by (tierkv_vllm_publisher, tierkv_vllm_decode_reason) (${rate(N('tierkv.controller.vllm.decode_errors'))})`, '{{tierkv_vllm_publisher}} {{tierkv_vllm_decode_reason}}']]],
    ['vLLM seq gaps, replays, views cleared per second', 'ops', [[`sum by (tierkv_vllm_publisher) (${rate(N('tierkv.controller.vllm.seq_gaps'))})`, 'gaps {{tierkv_vllm_publisher}}'], [`sum by (tierkv_vllm_replay_outcome) (${rate(N('tierkv.controller.vllm.replays'))})`, 'replays: {{tierkv_vllm_replay_outcome}}'], [`sum by (tierkv_vllm_clear_cause) (${rate(N('tierkv.controller.vllm.views_cleared'))})`, 'cleared: {{tierkv_vllm_clear_cause}}']]],
    ['vLLM blocks by publisher and medium, publishers followed', 'short', [[`sum by (tierkv_vllm_publisher, tierkv_vllm_medium) (${N('tierkv.controller.vllm.blocks')}${I})`, '{{tierkv_vllm_publisher}} {{tierkv_vllm_medium}}'], [`sum(${N('tierkv.controller.vllm.publishers')}${I})`, 'publishers']]],
    ['Score requests per second', 'reqps', [[`sum(${rate(N('tierkv.controller.vllm.score.requests'))})`, 'scores']]],
    ['Score latency p50 / p99', 's', [[p(0.5, N('tierkv.controller.vllm.score.duration'), ''), 'p50'], [p(0.99, N('tierkv.controller.vllm.score.duration'), ''), 'p99']]],
    ['Publisher: events / blocks / batches published per second', 'ops', [[`sum by (tierkv_vllm_event_type) (${rate(N('tierkv.vllm_publisher.events.published'))})`, 'events {{tierkv_vllm_event_type}}'], [`sum by (tierkv_vllm_event_type) (${rate(N('tierkv.vllm_publisher.blocks.published'))})`, 'blocks {{tierkv_vllm_event_type}}'], [`sum(${rate(N('tierkv.vllm_publisher.batches.published'))})`, 'batches'], [`sum(${rate(N('tierkv.vllm_publisher.blocks.dropped'))})`, 'blocks dropped']]],
    ['Publisher: replay requests and replayed batches per second, retained', 'short', [[`sum by (tierkv_vllm_replay_outcome) (${rate(N('tierkv.vllm_publisher.replay.requests'))})`, 'requests: {{tierkv_vllm_replay_outcome}}'], [`sum(${rate(N('tierkv.vllm_publisher.replay.batches'))})`, 'batches replayed'], [`sum(${N('tierkv.vllm_publisher.replay.retained')}${I})`, 'retained']]],
  ]],
  // The Redis L2 adapter: its commands by OpenTelemetry's database conventions, its circuit breaker, and the generic L2 figures of the redis tier.
  ['Redis L2', [
    ['Redis commands per second by operation', 'ops', [[`sum by (db_operation_name) (${rate(DB + '_count')})`, '{{db_operation_name}}']]],
    ['Redis command latency p50 / p99 by operation', 's', [[p(0.5, DB, 'db_operation_name'), 'p50 {{db_operation_name}}'], [p(0.99, DB, 'db_operation_name'), 'p99 {{db_operation_name}}']]],
    ['Redis pipelines per second by batch size (rounded up to a power of two)', 'ops', [[`sum by (db_operation_batch_size) (${rate(DB + '_count', 'db_operation_batch_size!=""')})`, '{{db_operation_batch_size}} commands']]],
    ['Redis circuit breaker state', 'short', [[`max by (tierkv_breaker_state) (${N('tierkv.l2.redis.breaker.state')}${I})`, '{{tierkv_breaker_state}}'], [`sum(${rate(N('tierkv.l2.redis.breaker.transitions'))})`, 'transitions/s']]],
    ['Redis errors per second: failed keys, dropped stores, short-circuited calls', 'ops', [[`sum by (tierkv_l2_operation, tierkv_l2_failure_reason) (${rate(N('tierkv.l2.failures'), 'tierkv_l2_adapter="redis"')})`, 'failed {{tierkv_l2_operation}} ({{tierkv_l2_failure_reason}})'], [`sum by (tierkv_l2_drop_reason) (${rate(N('tierkv.l2.redis.stores.dropped'))})`, 'store dropped ({{tierkv_l2_drop_reason}})'], [`sum by (tierkv_l2_operation) (${rate(N('tierkv.l2.redis.short_circuited'))})`, 'short-circuited {{tierkv_l2_operation}}']]],
    ['Redis values failing verification per second by reason', 'ops', [[`sum by (tierkv_l2_corrupt_reason) (${rate(N('tierkv.l2.redis.corrupt'))})`, '{{tierkv_l2_corrupt_reason}}']]],
  ]],
  // @tierkv/otel's push-exporter guard: every export's outcome and duration, failures by exporter, and the modules' own metric callback errors.
  ['Telemetry export health', [
    ['Exports per second by exporter and outcome', 'ops', [[`sum by (tierkv_telemetry_exporter, tierkv_telemetry_export_outcome) (${rate(N('tierkv.telemetry.export.duration') + '_count')})`, '{{tierkv_telemetry_exporter}} {{tierkv_telemetry_export_outcome}}']]],
    ['Export failures per second by exporter', 'ops', [[`sum by (tierkv_telemetry_exporter) (${rate(N('tierkv.telemetry.export.failures'))})`, '{{tierkv_telemetry_exporter}}']]],
    ['Export latency p50 / p99 by exporter', 's', [[p(0.5, N('tierkv.telemetry.export.duration'), 'tierkv_telemetry_exporter'), 'p50 {{tierkv_telemetry_exporter}}'], [p(0.99, N('tierkv.telemetry.export.duration'), 'tierkv_telemetry_exporter'), 'p99 {{tierkv_telemetry_exporter}}']]],
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
  description: 'tierkv storage (L1, L2, storage manager), MP-mode server, cache controller, vLLM KV events (ingest, scoring, publishing), the Redis L2 tier (db.client.operation.duration, circuit breaker) and telemetry export health, by their Prometheus names: the same whether Prometheus scrapes tierkv\'s /metrics or receives OTLP (directly or through a Collector). See docs/metrics.md and docs/observability.md.',
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
