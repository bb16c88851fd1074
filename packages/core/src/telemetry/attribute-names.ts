/**
 * Every attribute name tierkv puts on a metric or a span, declared once. The scheme: a registered
 * OpenTelemetry semantic-convention attribute where one exists (`error.type`, `db.operation.name`,
 * `server.address`, `gen_ai.request.model`, …); otherwise a `tierkv.`-namespaced, lowercase dotted
 * name, used identically by every metric and span that carries the same idea (the L2 operation is
 * `tierkv.l2.operation` on `tierkv.l2.operations`, `tierkv.l2.failures`, the short-circuit counter
 * and the `tierkv.l2 <operation>` span alike). Code uses these constants, never a literal; the
 * metric catalog's attributes must name one of them (test/docs/attribute-names.test.ts).
 */
export const ATTR = {
  // OpenTelemetry semantic conventions
  ERROR_TYPE: 'error.type',
  DB_SYSTEM_NAME: 'db.system.name',
  DB_OPERATION_NAME: 'db.operation.name',
  DB_NAMESPACE: 'db.namespace',
  DB_OPERATION_BATCH_SIZE: 'db.operation.batch.size',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  RPC_SYSTEM: 'rpc.system',
  HTTP_REQUEST_METHOD: 'http.request.method',
  HTTP_ROUTE: 'http.route',
  HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
  GEN_AI_REQUEST_MODEL: 'gen_ai.request.model',
  // tierkv: L1
  L1_OPERATION: 'tierkv.l1.operation',
  L1_MISS_REASON: 'tierkv.l1.miss.reason',
  L1_EVICTION_REASON: 'tierkv.l1.eviction.reason',
  L1_OBJECT_STATE: 'tierkv.l1.object.state',
  L1_LOCK_TYPE: 'tierkv.l1.lock.type',
  // tierkv: L2
  L2_ADAPTER: 'tierkv.l2.adapter',
  L2_OPERATION: 'tierkv.l2.operation',
  L2_FAILURE_REASON: 'tierkv.l2.failure.reason',
  L2_DIRECTION: 'tierkv.l2.direction',
  L2_LOOKUP_RESULT: 'tierkv.l2.lookup.result',
  L2_CORRUPT_REASON: 'tierkv.l2.corrupt.reason',
  L2_DROP_REASON: 'tierkv.l2.drop.reason',
  BREAKER_STATE: 'tierkv.breaker.state',
  // tierkv: storage manager
  STORAGE_TIER: 'tierkv.storage.tier',
  STORAGE_REFUSAL_REASON: 'tierkv.storage.refusal.reason',
  STORAGE_LISTENER: 'tierkv.storage.listener',
  CACHE_SALT: 'tierkv.cache.salt',
  // tierkv: server and client
  REQUEST_TYPE: 'tierkv.request.type',
  REQUEST_OUTCOME: 'tierkv.request.outcome',
  REJECT_REASON: 'tierkv.reject.reason',
  DROP_REASON: 'tierkv.drop.reason',
  SHED_REASON: 'tierkv.shed.reason',
  CLOSE_REASON: 'tierkv.close.reason',
  // tierkv: controller and worker client
  CONTROLLER_SOCKET: 'tierkv.controller.socket',
  CONTROLLER_DROP_REASON: 'tierkv.controller.drop.reason',
  CONTROLLER_MESSAGE_TYPE: 'tierkv.controller.message.type',
  KV_OPERATION: 'tierkv.kv.operation',
  KV_RESULT: 'tierkv.kv.result',
  FULL_SYNC_REASON: 'tierkv.full_sync.reason',
  FULL_SYNC_OUTCOME: 'tierkv.full_sync.outcome',
  FULL_SYNC_STATE: 'tierkv.full_sync.state',
  WORKER_DROP_REASON: 'tierkv.worker.drop.reason',
  WORKER_FAILURE_REASON: 'tierkv.worker.failure.reason',
  WORKER_CHANNEL: 'tierkv.worker.channel',
  // tierkv: vLLM events
  VLLM_PUBLISHER: 'tierkv.vllm.publisher',
  VLLM_EVENT_TYPE: 'tierkv.vllm.event.type',
  VLLM_DECODE_REASON: 'tierkv.vllm.decode.reason',
  VLLM_REPLAY_OUTCOME: 'tierkv.vllm.replay.outcome',
  VLLM_CLEAR_CAUSE: 'tierkv.vllm.clear.cause',
  VLLM_MEDIUM: 'tierkv.vllm.medium',
  // tierkv: the telemetry pipeline
  TELEMETRY_EXPORTER: 'tierkv.telemetry.exporter',
  TELEMETRY_EXPORT_OUTCOME: 'tierkv.telemetry.export.outcome',
  // tierkv: span-only counts
  KEYS_COUNT: 'tierkv.keys.count',
  KEYS_OK: 'tierkv.keys.ok',
  KEYS_RESERVED: 'tierkv.keys.reserved',
  KEYS_READ: 'tierkv.keys.read',
  KEYS_PUBLISHED: 'tierkv.keys.published',
  KEYS_DURABLE: 'tierkv.keys.durable',
  STORAGE_DURABLE: 'tierkv.storage.durable',
  STORAGE_TEMPORARY: 'tierkv.storage.temporary',
  STORAGE_ABORTED: 'tierkv.storage.aborted',
  PREFIX_HITS: 'tierkv.prefix.hits',
  PREFIX_L1_HITS: 'tierkv.prefix.l1_hits',
  PREFIX_L2_HITS: 'tierkv.prefix.l2_hits',
  CONTROLLER_HOLDERS: 'tierkv.controller.holders',
} as const;

export type AttributeName = (typeof ATTR)[keyof typeof ATTR];

/** What an attribute name means, where it is used, and whether OpenTelemetry registered it. */
export interface AttributeNameDefinition {
  readonly description: string;
  /** A registered semantic-convention attribute (the rest are `tierkv.`-namespaced). */
  readonly semconv?: true;
  /** Only on spans (counts of one call: never a metric attribute, they are unbounded). */
  readonly spanOnly?: true;
}

/** One entry per name of {@link ATTR}: the Record type makes a name without its meaning a compile error. */
export const ATTRIBUTE_NAMES: Readonly<Record<AttributeName, AttributeNameDefinition>> = Object.freeze({
  'error.type': { semconv: true, description: 'The class of error an operation ended with (set only on failure).' },
  'db.system.name': { semconv: true, description: 'The database: always `redis` (Valkey speaks the same protocol).' },
  'db.operation.name': { semconv: true, description: 'The Redis command; `BATCH <command>` for a pipeline of two or more.' },
  'db.namespace': { semconv: true, description: 'The Redis database index, as a string (`0` on a cluster).' },
  'db.operation.batch.size': { semconv: true, description: 'Commands in a Redis pipeline, when more than one (on the metric rounded up to a power of two, so the series stay few).' },
  'server.address': { semconv: true, description: 'The peer host: the Redis node of a single-node adapter, the server a TierkvClient talks to.' },
  'server.port': { semconv: true, description: 'The peer port, beside `server.address`.' },
  'rpc.system': { semconv: true, spanOnly: true, description: 'Always `tierkv` (the MP-mode protocol over ZeroMQ).' },
  'http.request.method': { semconv: true, spanOnly: true, description: 'HTTP method of a controller API request.' },
  'http.route': { semconv: true, spanOnly: true, description: 'HTTP route of a controller API request.' },
  'http.response.status_code': { semconv: true, spanOnly: true, description: 'HTTP status of a controller API reply.' },
  'gen_ai.request.model': { semconv: true, description: 'The model name of the chunks a request carried (opt-in: `perModelAttributes`).' },
  'tierkv.l1.operation': { description: 'The batched L1 call.' },
  'tierkv.l1.miss.reason': { description: 'Why an L1 read found nothing readable.' },
  'tierkv.l1.eviction.reason': { description: 'Why chunks left L1 or an eviction ran.' },
  'tierkv.l1.object.state': { description: 'The state of an L1 object.' },
  'tierkv.l1.lock.type': { description: 'Read or write lock.' },
  'tierkv.l2.adapter': { description: "The L2 adapter's bounded name (`L2Adapter.name`)." },
  'tierkv.l2.operation': { description: 'The L2 adapter call.' },
  'tierkv.l2.failure.reason': { description: 'Why an L2 operation failed for a key.' },
  'tierkv.l2.direction': { description: 'Bytes into (`in`) or out of (`out`) an L2 tier.' },
  'tierkv.l2.lookup.result': { description: 'Whether an L2 lookup found the key.' },
  'tierkv.l2.corrupt.reason': { description: 'Which verification a value read from Redis failed.' },
  'tierkv.l2.drop.reason': { description: 'Why the Redis adapter did not store an object.' },
  'tierkv.breaker.state': { description: 'A circuit breaker state (the current one, or the one entered).' },
  'tierkv.storage.tier': { description: 'The tier that held a chunk.' },
  'tierkv.storage.refusal.reason': { description: 'Why the storage manager refused a write or dropped a write-through.' },
  'tierkv.storage.listener': { description: 'Which listener kind threw.' },
  'tierkv.cache.salt': { description: 'The cache salt (tenant) of the chunks a request carried (opt-in: `perModelAttributes`).' },
  'tierkv.request.type': { description: 'The MP-mode request type.' },
  'tierkv.request.outcome': { description: 'How an MP-mode request ended.' },
  'tierkv.reject.reason': { description: 'Why the server refused a request before handling it.' },
  'tierkv.drop.reason': { description: 'Why the server dropped a reply.' },
  'tierkv.shed.reason': { description: 'Why the server shed a client.' },
  'tierkv.close.reason': { description: 'Why a ZeroMQ connection closed (server and controller).' },
  'tierkv.controller.socket': { description: 'The controller socket.' },
  'tierkv.controller.drop.reason': { description: 'Why the controller dropped a frame.' },
  'tierkv.controller.message.type': { description: 'The controller protocol message type (controller side and worker requests alike).' },
  'tierkv.kv.operation': { description: 'A KV event: `admit` or `evict` (reported by a worker, applied by the controller).' },
  'tierkv.kv.result': { description: 'What the controller did with a KV event.' },
  'tierkv.full_sync.reason': { description: 'Why a full sync was requested.' },
  'tierkv.full_sync.outcome': { description: 'How a full sync ended (controller session or worker run).' },
  'tierkv.full_sync.state': { description: 'Where a worker is in a full sync now.' },
  'tierkv.worker.drop.reason': { description: 'Why the worker client dropped KV events.' },
  'tierkv.worker.failure.reason': { description: 'Why a worker request to the controller failed.' },
  'tierkv.worker.channel': { description: 'The worker-to-controller channel.' },
  'tierkv.vllm.publisher': { description: "A vLLM publisher's configured name (bounded: at most 256 per controller)." },
  'tierkv.vllm.event.type': { description: 'The vLLM KV event type.' },
  'tierkv.vllm.decode.reason': { description: 'Which part of a vLLM event batch failed to decode.' },
  'tierkv.vllm.replay.outcome': { description: 'How a vLLM replay went (controller asking, publisher answering).' },
  'tierkv.vllm.clear.cause': { description: "Why the controller cleared a publisher's view." },
  'tierkv.vllm.medium': { description: 'The vLLM medium of a block.' },
  'tierkv.telemetry.exporter': { description: 'The push exporter.' },
  'tierkv.telemetry.export.outcome': { description: 'Whether an export succeeded.' },
  'tierkv.keys.count': { spanOnly: true, description: 'Keys the call carried.' },
  'tierkv.keys.ok': { spanOnly: true, description: 'Keys an L2 call answered true for.' },
  'tierkv.keys.reserved': { spanOnly: true, description: 'Keys reserved for writing.' },
  'tierkv.keys.read': { spanOnly: true, description: 'Keys read.' },
  'tierkv.keys.published': { spanOnly: true, description: 'Keys a commit published.' },
  'tierkv.keys.durable': { spanOnly: true, description: 'Keys a durable commit stored in L2.' },
  'tierkv.storage.durable': { spanOnly: true, description: 'Whether a commit waited for L2.' },
  'tierkv.storage.temporary': { spanOnly: true, description: 'Whether a store or commit was of temporary objects.' },
  'tierkv.storage.aborted': { spanOnly: true, description: 'Set when a store was aborted instead of committed.' },
  'tierkv.prefix.hits': { spanOnly: true, description: 'Length of the cached prefix found (chunks).' },
  'tierkv.prefix.l1_hits': { spanOnly: true, description: 'Chunks of the request found in L1.' },
  'tierkv.prefix.l2_hits': { spanOnly: true, description: 'Chunks of the request found in L2.' },
  'tierkv.controller.holders': { spanOnly: true, description: 'Workers holding a prefix of the looked-up chunks.' },
});
