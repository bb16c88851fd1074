import { ATTR } from '../attribute-names.js';
import { CLOSE_REASON } from './server-catalog.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

const SOCKET: AttributeDefinition = {
  name: ATTR.CONTROLLER_SOCKET,
  values: ['pull', 'router', 'heartbeat', 'query'],
  description: 'Controller socket: `pull` (worker events), `router` (request/reply), `heartbeat` (the optional separate heartbeat ROUTER), `query` (the optional plain-TCP query listener, `queryPort`)',
};

const MESSAGE_TYPES = [
  'register',
  'deregister',
  'heartbeat',
  'kv_batch',
  'sync_start',
  'sync_batch',
  'sync_end',
  'sync_status',
  'lookup',
  'score',
  'query_workers',
] as const;

const PUBLISHER: AttributeDefinition = {
  name: ATTR.VLLM_PUBLISHER,
  values: ['<configured publisher name>'],
  description: 'A vLLM publisher\'s configured name (`vllmPublishers[].name`); bounded: a controller follows at most 256 publishers',
};

/** `tierkv.controller.*` metrics (the cache controller; LMCache's `lmcache:cache_controller_*`). */
export const CONTROLLER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.controller.kv_pool.keys',
    kind: 'observable_gauge',
    unit: '{chunk}',
    description: 'Chunk entries in the KV pool, summed over workers and locations (a chunk held by two workers counts twice)',
    attributes: [],
    lmcache: ['lmcache:cache_controller_kv_pool_keys_count'],
  },
  {
    name: 'tierkv.controller.kv_pool.memory',
    kind: 'observable_gauge',
    unit: 'By',
    description: 'Bytes held by the KV pool hash sets (typed arrays; excludes per-worker bookkeeping)',
    attributes: [],
  },
  {
    name: 'tierkv.controller.workers.registered',
    kind: 'observable_gauge',
    unit: '{worker}',
    description: 'Workers currently registered',
    attributes: [],
    lmcache: ['lmcache:cache_controller_registered_workers_count'],
  },
  {
    name: 'tierkv.controller.workers.reaped',
    kind: 'observable_counter',
    unit: '{worker}',
    description: 'Workers deregistered by the reaper because their heartbeats stopped; their keys were dropped',
    attributes: [],
  },
  {
    name: 'tierkv.controller.messages.received',
    kind: 'observable_counter',
    unit: '{message}',
    description: 'Messages received, per socket (including frames later dropped as malformed)',
    attributes: [SOCKET],
    lmcache: ['lmcache:cache_controller_pull_socket_message_count', 'lmcache:cache_controller_reply_socket_message_count'],
  },
  {
    name: 'tierkv.controller.socket.pending',
    kind: 'observable_gauge',
    unit: '1',
    description: 'Whether the socket has messages waiting to be read (1 = yes, 0 = no) at collection time',
    attributes: [SOCKET],
    lmcache: ['lmcache:cache_controller_pull_socket_has_pending', 'lmcache:cache_controller_reply_socket_has_pending'],
  },
  {
    name: 'tierkv.controller.socket.active_requests',
    kind: 'observable_gauge',
    unit: '{request}',
    description: 'Messages being handled right now, per socket',
    attributes: [SOCKET],
    lmcache: ['lmcache:cache_controller_pull_socket_active_requests', 'lmcache:cache_controller_reply_socket_active_requests'],
  },
  {
    name: 'tierkv.controller.connections.closed',
    kind: 'observable_counter',
    unit: '{connection}',
    description:
      'Connections a controller socket lost, by socket and reason. A peer that announces a frame above maxMessageBytes is disconnected by libzmq and counted as `disconnect`. On `query` every closed connection counts: `handshake_failed` when its first bytes were not the query hello, `disconnect` otherwise (the client left, announced an oversized message, or did not read its replies).',
    attributes: [SOCKET, CLOSE_REASON],
  },
  {
    name: 'tierkv.controller.frames.dropped',
    kind: 'observable_counter',
    unit: '{frame}',
    description: 'Frames dropped without effect: undecodable or invalid messages, unknown types, messages from unregistered workers, handler errors',
    attributes: [
      SOCKET,
      {
        name: ATTR.CONTROLLER_DROP_REASON,
        values: ['malformed', 'unknown_type', 'invalid', 'unknown_worker', 'handler_error', 'wrong_socket'],
        description: '`malformed`: not msgpack or not a frame layout we accept; `unknown_type`: a `t` we do not know; `invalid`: fields failed validation; `unknown_worker`: sender not registered; `handler_error`: the handler threw; `wrong_socket`: a request type on the PULL socket or vice versa',
      },
    ],
  },
  {
    name: 'tierkv.controller.kv.operations',
    kind: 'observable_counter',
    unit: '{operation}',
    description: 'KV admit/evict operations received in event batches, by what the controller did with them',
    attributes: [
      { name: ATTR.KV_OPERATION, values: ['admit', 'evict'], description: 'The reported change' },
      {
        name: ATTR.KV_RESULT,
        values: ['applied', 'duplicate', 'deferred'],
        description: '`applied` to the pool; `duplicate`: its sequence number was already seen (not applied twice); `deferred`: newer than a running full sync\'s snapshot, applied when the sync completes',
      },
    ],
  },
  {
    name: 'tierkv.controller.seq.discontinuities',
    kind: 'observable_counter',
    unit: '{discontinuity}',
    description: 'Gaps detected in a worker\'s per-location event sequence numbers (each leads to a full sync request)',
    attributes: [],
    lmcache: ['lmcache:cache_controller_kv_op_seq_discontinuity_count'],
  },
  {
    name: 'tierkv.controller.full_sync.requested',
    kind: 'observable_counter',
    unit: '{sync}',
    description: 'Full syncs the controller asked workers for, by reason',
    attributes: [
      {
        name: ATTR.FULL_SYNC_REASON,
        values: ['sequence_gap', 'registration', 'sync_failed', 'manual'],
        description: '`sequence_gap`: lost events; `registration`: a worker with keys (re-)registered, e.g. after a controller restart; `sync_failed`: a previous sync failed or timed out; `manual`: asked through the API',
      },
    ],
  },
  {
    name: 'tierkv.controller.full_sync.sessions',
    kind: 'observable_counter',
    unit: '{sync}',
    description: 'Full sync sessions that ended, by outcome',
    attributes: [
      {
        name: ATTR.FULL_SYNC_OUTCOME,
        values: ['completed', 'failed', 'rejected'],
        description: '`completed`: the worker\'s key set was swapped in; `failed`: timed out or abandoned; `rejected`: a start that conflicted with another running sync id',
      },
    ],
  },
  {
    name: 'tierkv.controller.full_sync.workers',
    kind: 'observable_gauge',
    unit: '{worker}',
    description: 'Registered workers by the state of their latest full sync',
    attributes: [
      { name: ATTR.FULL_SYNC_STATE, values: ['syncing', 'completed', 'failed'], description: 'State of the worker\'s latest sync session' },
    ],
    lmcache: ['lmcache:cache_controller_full_sync_workers_syncing', 'lmcache:cache_controller_full_sync_workers_completed'],
  },
  {
    name: 'tierkv.controller.full_sync.progress',
    kind: 'observable_gauge',
    unit: '1',
    description: 'Fraction of registered workers whose latest full sync completed (0 when none registered)',
    attributes: [],
    lmcache: ['lmcache:cache_controller_full_sync_global_progress'],
  },
  {
    name: 'tierkv.controller.full_sync.missing_batches',
    kind: 'observable_gauge',
    unit: '{batch}',
    description: 'Batches not yet received, summed over the workers currently syncing',
    attributes: [],
    lmcache: ['lmcache:cache_controller_full_sync_missing_batches_total'],
  },
  {
    name: 'tierkv.controller.lookup.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time to answer one prefix lookup (hashing tokens if given, then probing every worker)',
    attributes: [],
  },
  {
    name: 'tierkv.controller.message.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time to handle one decoded message (one event batch is one message)',
    attributes: [
      SOCKET,
      { name: ATTR.CONTROLLER_MESSAGE_TYPE, values: [...MESSAGE_TYPES], description: 'Message type' },
    ],
  },
  {
    name: 'tierkv.controller.vllm.publishers',
    kind: 'observable_gauge',
    unit: '{publisher}',
    description: 'vLLM KV-event publishers the controller follows (docs/vllm.md)',
    attributes: [],
  },
  {
    name: 'tierkv.controller.vllm.events',
    kind: 'observable_counter',
    unit: '{event}',
    description: 'vLLM KV events applied to the KV pool, per publisher and event type (`unknown`: a type this version skips)',
    attributes: [PUBLISHER, { name: ATTR.VLLM_EVENT_TYPE, values: ['BlockStored', 'BlockRemoved', 'AllBlocksCleared', 'unknown'], description: 'vLLM event type' }],
  },
  {
    name: 'tierkv.controller.vllm.decode_errors',
    kind: 'observable_counter',
    unit: '{batch}',
    description: 'vLLM frames or batches dropped, per publisher and reason; the subscriber keeps going',
    attributes: [
      PUBLISHER,
      {
        name: ATTR.VLLM_DECODE_REASON,
        values: ['frames', 'seq', 'msgpack', 'batch', 'event', 'dp_rank'],
        description: '`frames`: not [topic, seq, payload]; `seq`: not 8 bytes; `msgpack`: payload does not decode; `batch`/`event`: not a KVEventBatch / a malformed event (the whole batch is dropped); `dp_rank`: stamped with another data-parallel rank',
      },
    ],
  },
  {
    name: 'tierkv.controller.vllm.seq_gaps',
    kind: 'observable_counter',
    unit: '{gap}',
    description: 'Times a vLLM publisher\'s batch seq jumped ahead (batches were missed), per publisher',
    attributes: [PUBLISHER],
  },
  {
    name: 'tierkv.controller.vllm.replays',
    kind: 'observable_counter',
    unit: '{replay}',
    description: 'Replays asked of a vLLM publisher\'s replay ROUTER after a gap, per publisher and outcome',
    attributes: [PUBLISHER, { name: ATTR.VLLM_REPLAY_OUTCOME, values: ['ok', 'partial', 'failed'], description: '`ok`: the gap was filled; `partial`: the publisher\'s buffer no longer held the start; `failed`: no answer in time' }],
  },
  {
    name: 'tierkv.controller.vllm.views_cleared',
    kind: 'observable_counter',
    unit: '{clear}',
    description: 'Times a vLLM publisher\'s view (all its media) was emptied and rebuilt from the stream, per publisher and cause',
    attributes: [
      PUBLISHER,
      {
        name: ATTR.VLLM_CLEAR_CAUSE,
        values: ['no_replay', 'replay_incomplete', 'replay_failed', 'seq_backwards', 'all_blocks_cleared'],
        description: 'a gap without a replay endpoint, a replay that could not cover it or failed, an engine restart (seq went backwards), or an AllBlocksCleared event',
      },
    ],
  },
  {
    name: 'tierkv.controller.vllm.blocks',
    kind: 'observable_gauge',
    unit: '{block}',
    description: 'Blocks held per vLLM publisher and medium in the KV pool (also counted in kv_pool.keys)',
    attributes: [PUBLISHER, { name: ATTR.VLLM_MEDIUM, values: ['gpu', 'cpu', 'disk', 'other'], description: 'vLLM medium, lowercased; anything else is `other`' }],
  },
  {
    name: 'tierkv.controller.vllm.score.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Score requests answered (HTTP POST /score and the ZeroMQ `score` message)',
    attributes: [],
  },
  {
    name: 'tierkv.controller.vllm.score.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time to answer one score request (hashing tokens if given, then probing every publisher of the model)',
    attributes: [],
  },
];
