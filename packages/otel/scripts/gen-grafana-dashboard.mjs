// Generates docs/grafana-dashboard.json: node packages/otel/scripts/gen-grafana-dashboard.mjs
// Each panel's expressions are checked against a real Prometheus by test/otel/prometheus-server.test.ts.
import { writeFileSync } from 'node:fs';
const I = '{instance=~"$instance"}';
const sel = (extra = '') => `{instance=~"$instance"${extra ? ',' + extra : ''}}`;
const R = '[$__rate_interval]';
const rate = (m, extra = '') => `rate(${m}${sel(extra)}${R})`;
const p = (q, m, by, extra = '') => `histogram_quantile(${q}, sum by (le${by ? ', ' + by : ''}) (${rate(m + '_bucket', extra)}))`;

const rows = [
  ['L1 memory tier', [
    ['L1 memory used / limit', 'bytes', [[`sum by (instance) (tierkv_l1_memory_used${I})`, 'used {{instance}}'], [`sum by (instance) (tierkv_l1_memory_limit${I})`, 'limit {{instance}}']]],
    ['L1 objects by state', 'short', [[`sum by (state) (tierkv_l1_objects${I})`, '{{state}}']]],
    ['L1 calls per second by operation', 'ops', [[`sum by (operation) (${rate('tierkv_l1_batches_total')})`, '{{operation}}']]],
    ['L1 chunks read / written per second', 'ops', [[`sum(${rate('tierkv_l1_read_total')})`, 'read'], [`sum(${rate('tierkv_l1_write_total')})`, 'written']]],
    ['L1 evictions per second by reason', 'ops', [[`sum by (reason) (${rate('tierkv_l1_evicted_total')})`, '{{reason}}']]],
    ['L1 read misses per second by reason', 'ops', [[`sum by (reason) (${rate('tierkv_l1_read_misses_total')})`, '{{reason}}']]],
    ['L1 chunks deleted / allocation failures per second', 'ops', [[`sum(${rate('tierkv_l1_deleted_total')})`, 'deleted'], [`sum(${rate('tierkv_l1_allocation_failures_total')})`, 'out of memory']]],
    ['L1 chunk lifetime and idle time before eviction (p50)', 's', [[p(0.5, 'tierkv_l1_chunk_lifetime', ''), 'lifetime'], [p(0.5, 'tierkv_l1_chunk_idle', ''), 'idle']]],
    ['L1 batch latency p99 by operation', 's', [[p(0.99, 'tierkv_l1_batch_duration', 'operation'), '{{operation}}']]],
  ]],
  ['L2 tiers', [
    ['L2 usage / capacity by adapter', 'bytes', [[`sum by (tierkv_l2_adapter) (tierkv_l2_usage${I})`, 'used {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (tierkv_l2_capacity${I})`, 'capacity {{tierkv_l2_adapter}}']]],
    ['L2 chunks stored / loaded per second', 'ops', [[`sum by (tierkv_l2_adapter) (${rate('tierkv_l2_stored_total')})`, 'stored {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate('tierkv_l2_loaded_total')})`, 'loaded {{tierkv_l2_adapter}}']]],
    ['L2 lookup hit ratio', 'percentunit', [[`sum by (tierkv_l2_adapter) (increase(tierkv_l2_lookups_total${sel('result="hit"')}[$__range])) / sum by (tierkv_l2_adapter) (increase(tierkv_l2_lookups_total${I}[$__range]))`, '{{tierkv_l2_adapter}}']]],
    ['L2 bytes per second', 'Bps', [[`sum by (tierkv_l2_adapter, direction) (${rate('tierkv_l2_bytes_total')})`, '{{direction}} {{tierkv_l2_adapter}}']]],
    ['L2 failed / corrupt chunks per second', 'ops', [[`sum by (tierkv_l2_adapter, operation, reason) (${rate('tierkv_l2_failures_total')})`, 'failed {{operation}} ({{reason}}) {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate('tierkv_l2_corrupt_total')})`, 'corrupt {{tierkv_l2_adapter}}']]],
    ['L2 objects and evictions', 'short', [[`sum by (tierkv_l2_adapter) (tierkv_l2_objects${I})`, 'objects {{tierkv_l2_adapter}}'], [`sum by (tierkv_l2_adapter) (${rate('tierkv_l2_evicted_total')})`, 'evicted/s {{tierkv_l2_adapter}}']]],
    ['L2 operation latency p99', 's', [[p(0.99, 'tierkv_l2_operation_duration', 'tierkv_l2_adapter, operation'), '{{operation}} {{tierkv_l2_adapter}}']]],
  ]],
  ['Storage manager', [
    ['Prefix lookup hit ratio by tier', 'percentunit', [[`sum by (tier) (increase(tierkv_storage_prefix_lookup_hit_chunks_total${I}[$__range])) / ignoring(tier) group_left sum(increase(tierkv_storage_prefix_lookup_requested_chunks_total${I}[$__range]))`, '{{tier}}']]],
    ['Read / write requests per second', 'reqps', [[`sum(${rate('tierkv_storage_read_requests_total')})`, 'read'], [`sum(${rate('tierkv_storage_write_requests_total')})`, 'write']]],
    ['Failed keys per second', 'ops', [[`sum(${rate('tierkv_storage_read_failed_keys_total')})`, 'read'], [`sum(${rate('tierkv_storage_write_failed_keys_total')})`, 'write']]],
    ['Store queue depth and drops', 'short', [[`sum(tierkv_storage_store_queue_depth${I})`, 'queued batches'], [`sum(${rate('tierkv_storage_store_dropped_total')})`, 'dropped chunks/s']]],
    ['Active prefetches', 'short', [[`sum(tierkv_storage_prefetch_active${I})`, 'active']]],
    ['Prefetch latency p50 / p99', 's', [[p(0.5, 'tierkv_storage_prefetch_duration', ''), 'p50'], [p(0.99, 'tierkv_storage_prefetch_duration', ''), 'p99']]],
  ]],
  ['MP-mode server and client', [
    ['Server requests per second by type', 'reqps', [[`sum by (tierkv_request_type) (${rate('tierkv_server_requests_total')})`, '{{tierkv_request_type}}']]],
    ['Server requests per second by outcome', 'reqps', [[`sum by (tierkv_request_outcome) (${rate('tierkv_server_requests_total')})`, '{{tierkv_request_outcome}}']]],
    ['Server request latency p99 by type', 's', [[p(0.99, 'tierkv_server_request_duration', 'tierkv_request_type'), '{{tierkv_request_type}}']]],
    ['Server bytes per second', 'Bps', [[`sum(${rate('tierkv_server_received_total')})`, 'received'], [`sum(${rate('tierkv_server_sent_total')})`, 'sent']]],
    ['Clients, sessions, requests in flight', 'short', [[`sum(tierkv_server_clients${I})`, 'clients'], [`sum(tierkv_server_sessions${I})`, 'sessions'], [`sum(tierkv_server_requests_in_flight${I})`, 'in flight']]],
    ['Server locks held / expired', 'short', [[`sum(tierkv_server_locks_held${I})`, 'held'], [`sum(${rate('tierkv_server_locks_expired_total')})`, 'expired/s']]],
    ['Client requests per second by outcome', 'reqps', [[`sum by (tierkv_request_outcome) (${rate('tierkv_client_requests_total')})`, '{{tierkv_request_outcome}}']]],
    ['Client request latency p99 by type', 's', [[p(0.99, 'tierkv_client_request_duration', 'tierkv_request_type'), '{{tierkv_request_type}}']]],
    ['Client requests in flight', 'short', [[`sum(tierkv_client_requests_in_flight${I})`, 'in flight']]],
  ]],
  ['Cache controller and workers', [
    ['KV pool keys', 'short', [[`sum(tierkv_controller_kv_pool_keys${I})`, 'keys']]],
    ['KV pool memory', 'bytes', [[`sum(tierkv_controller_kv_pool_memory${I})`, 'memory']]],
    ['Registered workers', 'short', [[`sum(tierkv_controller_workers_registered${I})`, 'registered'], [`sum(${rate('tierkv_controller_workers_reaped_total')})`, 'reaped/s']]],
    ['Messages per second by socket', 'ops', [[`sum by (socket) (${rate('tierkv_controller_messages_received_total')})`, '{{socket}}']]],
    ['KV operations per second', 'ops', [[`sum by (operation, result) (${rate('tierkv_controller_kv_operations_total')})`, '{{operation}} {{result}}']]],
    ['Socket pending / active requests', 'short', [[`sum by (socket) (tierkv_controller_socket_pending${I})`, 'pending {{socket}}'], [`sum by (socket) (tierkv_controller_socket_active_requests${I})`, 'active {{socket}}']]],
    ['Sequence discontinuities per second', 'ops', [[`sum(${rate('tierkv_controller_seq_discontinuities_total')})`, 'discontinuities']]],
    ['Full syncs requested by reason, sessions by outcome', 'short', [[`sum by (reason) (increase(tierkv_controller_full_sync_requested_total${I}[$__range]))`, 'requested: {{reason}}'], [`sum by (outcome) (increase(tierkv_controller_full_sync_sessions_total${I}[$__range]))`, 'ended: {{outcome}}']]],
    ['Controller prefix lookup latency p99', 's', [[p(0.99, 'tierkv_controller_lookup_duration', ''), 'p99']]],
    ['Full sync: workers by state, progress, missing batches', 'short', [[`sum by (state) (tierkv_controller_full_sync_workers${I})`, '{{state}}'], [`max(tierkv_controller_full_sync_progress${I})`, 'progress'], [`sum(tierkv_controller_full_sync_missing_batches${I})`, 'missing batches']]],
    ['Worker events sent per second', 'ops', [[`sum by (operation) (${rate('tierkv_worker_events_sent_total')})`, '{{operation}}']]],
    ['Worker tracked keys and pending events', 'short', [[`sum(tierkv_worker_tracked_keys${I})`, 'tracked keys'], [`sum(tierkv_worker_events_pending${I})`, 'pending events']]],
    ['Controller message latency p99 by type', 's', [[p(0.99, 'tierkv_controller_message_duration', 'type'), '{{type}}']]],
  ]],
  // docs/vllm.md: the controller following vLLM publishers (ingest, keeping the view true, scoring), and a tierkv server publishing its holdings.
  ['vLLM events', [
    ['vLLM events ingested per second by publisher and type', 'ops', [[`sum by (publisher, type) (${rate('tierkv_controller_vllm_events_total')})`, '{{publisher}} {{type}}']]],
    ['vLLM decode errors per second by reason', 'ops', [[`sum by (publisher, reason) (${rate('tierkv_controller_vllm_decode_errors_total')})`, '{{publisher}} {{reason}}']]],
    ['vLLM seq gaps, replays, views cleared', 'short', [[`sum by (publisher) (${rate('tierkv_controller_vllm_seq_gaps_total')})`, 'gaps/s {{publisher}}'], [`sum by (outcome) (increase(tierkv_controller_vllm_replays_total${I}[$__range]))`, 'replays: {{outcome}}'], [`sum by (cause) (increase(tierkv_controller_vllm_views_cleared_total${I}[$__range]))`, 'cleared: {{cause}}']]],
    ['vLLM blocks by publisher and medium, publishers followed', 'short', [[`sum by (publisher, medium) (tierkv_controller_vllm_blocks${I})`, '{{publisher}} {{medium}}'], [`sum(tierkv_controller_vllm_publishers${I})`, 'publishers']]],
    ['Score requests per second', 'reqps', [[`sum(${rate('tierkv_controller_vllm_score_requests_total')})`, 'scores']]],
    ['Score latency p50 / p99', 's', [[p(0.5, 'tierkv_controller_vllm_score_duration', ''), 'p50'], [p(0.99, 'tierkv_controller_vllm_score_duration', ''), 'p99']]],
    ['Publisher: events / blocks / batches published per second', 'ops', [[`sum by (type) (${rate('tierkv_vllm_publisher_events_published_total')})`, 'events {{type}}'], [`sum by (type) (${rate('tierkv_vllm_publisher_blocks_published_total')})`, 'blocks {{type}}'], [`sum(${rate('tierkv_vllm_publisher_batches_published_total')})`, 'batches'], [`sum(${rate('tierkv_vllm_publisher_blocks_dropped_total')})`, 'blocks dropped']]],
    ['Publisher: replay requests, replayed batches, retained', 'short', [[`sum by (outcome) (increase(tierkv_vllm_publisher_replay_requests_total${I}[$__range]))`, 'requests: {{outcome}}'], [`sum(increase(tierkv_vllm_publisher_replay_batches_total${I}[$__range]))`, 'batches replayed'], [`sum(tierkv_vllm_publisher_replay_retained${I})`, 'retained']]],
  ]],
  ['Telemetry pipeline', [
    ['Export failures per second by exporter', 'ops', [[`sum by (exporter) (${rate('tierkv_telemetry_export_failures_total')})`, '{{exporter}}']]],
    ['Export latency p99 by exporter', 's', [[p(0.99, 'tierkv_telemetry_export_duration', 'exporter'), '{{exporter}}']]],
    ['Metric callback errors', 'short', [[`sum(tierkv_telemetry_callback_errors_total${I})`, 'errors']]],
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
  __inputs: [],
  annotations: { list: [] },
  description: 'tierkv storage (L1, L2, storage manager), MP-mode server, cache controller, vLLM KV events (ingest, scoring, publishing) and telemetry pipeline metrics, as the OpenTelemetry Prometheus exporter renders them. See docs/metrics.md and docs/observability.md.',
  editable: true,
  graphTooltip: 1,
  panels,
  refresh: '10s',
  schemaVersion: 39,
  tags: ['tierkv', 'opentelemetry'],
  templating: {
    list: [
      { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
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
