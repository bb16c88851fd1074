import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';
import { MODEL_ATTRIBUTES } from './storage-catalog.js';

const REQUEST_TYPE: AttributeDefinition = {
  name: ATTR.REQUEST_TYPE,
  values: ['ping', 'store', 'retrieve', 'lookup', 'prefetch_status', 'release', 'clear', 'status', 'unknown'],
  description: 'The request type (`unknown` for a request whose type could not be read).',
};

const SERVER_OUTCOME: AttributeDefinition = {
  name: ATTR.REQUEST_OUTCOME,
  values: ['ok', 'client_error', 'busy', 'timeout', 'shutting_down', 'internal_error'],
  description: 'How the server answered: `client_error` covers malformed, unknown, oversized and invalid requests.',
};

/** Shared by every ZeroMQ socket's `*.connections.closed` counter (server and controller). */
export const CLOSE_REASON: AttributeDefinition = {
  name: ATTR.CLOSE_REASON,
  values: ['disconnect', 'handshake_failed'],
  description:
    '`disconnect`: the peer left, broke the protocol, or announced a frame above the maximum message size (libzmq reports these alike); `handshake_failed`: the ZMTP handshake failed (with an authToken: a peer without the token, or with a wrong one; nothing it sent was read).',
};

/** `tierkv.server.*` metrics. */
export const SERVER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.server.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Requests the MP-mode server answered, by type and outcome.',
    attributes: [REQUEST_TYPE, SERVER_OUTCOME],
    lmcache: ['lmcache:num_store_requests', 'lmcache:num_retrieve_requests', 'lmcache:num_lookup_requests'],
  },
  {
    name: 'tierkv.server.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time from receiving a request to queueing its reply, by type (and, opted in, by model and tenant).',
    attributes: [REQUEST_TYPE, ...MODEL_ATTRIBUTES],
    lmcache: ['lmcache:time_to_store', 'lmcache:time_to_retrieve'],
  },
  {
    name: 'tierkv.server.received',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Bytes received in request frames (headers and chunk data).',
    attributes: [],
  },
  {
    name: 'tierkv.server.sent',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Bytes queued in reply frames (headers and chunk data).',
    attributes: [],
  },
  {
    name: 'tierkv.server.clients',
    kind: 'observable_updowncounter',
    unit: '{client}',
    description: 'Client connections currently open on the request socket.',
    attributes: [],
  },
  {
    name: 'tierkv.server.sessions',
    kind: 'observable_updowncounter',
    unit: '{client}',
    description: 'Client identities the server tracks (seen within the idle timeout, or holding locks).',
    attributes: [],
  },
  {
    name: 'tierkv.server.requests.in_flight',
    kind: 'observable_updowncounter',
    unit: '{request}',
    description: 'Requests received and not yet answered.',
    attributes: [],
  },
  {
    name: 'tierkv.server.requests.rejected',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Requests refused without being served, by reason.',
    attributes: [
      {
        name: ATTR.REJECT_REASON,
        values: ['busy', 'too_large', 'malformed', 'unknown_type', 'invalid', 'shutting_down'],
        description: '`busy`: in-flight limit; `too_large`: maxPayloadBytes or maxKeysPerRequest; `malformed`: undecodable frames; `invalid`: a bad field or layout.',
      },
    ],
  },
  {
    name: 'tierkv.server.replies.dropped',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Replies that could not be delivered, by reason.',
    attributes: [
      {
        name: ATTR.DROP_REASON,
        values: ['peer_gone', 'peer_slow'],
        description: '`peer_gone`: the client disconnected; `peer_slow`: the client did not read and was shed (see `tierkv.server.clients.shed`) with these replies waiting.',
      },
    ],
  },
  {
    name: 'tierkv.server.replies.queued',
    kind: 'observable_updowncounter',
    unit: 'By',
    description: 'Reply bytes waiting in the server for a client to read (bounded by maxReplyBytes; libzmq pipes hold up to sendHighWaterMark + 1 replies per client besides).',
    attributes: [],
  },
  {
    name: 'tierkv.server.clients.shed',
    kind: 'observable_counter',
    unit: '{client}',
    description: 'Clients whose waiting replies were thrown away and whose session (and locks) were dropped because they did not read, by reason.',
    attributes: [
      {
        name: ATTR.SHED_REASON,
        values: ['client_budget', 'total_budget', 'stalled'],
        description: '`client_budget`: over maxReplyBytesPerClient; `total_budget`: the largest holder when all clients were over maxReplyBytes; `stalled`: no reply taken for requestTimeoutMs.',
      },
    ],
  },
  {
    name: 'tierkv.server.connections.closed',
    kind: 'observable_counter',
    unit: '{connection}',
    description: 'Connections the request socket lost, by reason. A peer that announces a frame above the maximum message size is disconnected by libzmq and counted as `disconnect`.',
    attributes: [CLOSE_REASON],
  },
  {
    name: 'tierkv.server.locks.held',
    kind: 'observable_updowncounter',
    unit: '{chunk}',
    description: 'L1 read locks the server holds for clients (open prefetches).',
    attributes: [],
  },
  {
    name: 'tierkv.server.locks.expired',
    kind: 'observable_counter',
    unit: '{chunk}',
    description: 'Read locks released because their client went idle, disconnected or let the lease expire.',
    attributes: [],
  },
];
