import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

const REQUEST_TYPE: AttributeDefinition = {
  name: 'tierkv.request.type',
  values: ['ping', 'store', 'retrieve', 'lookup', 'prefetch_status', 'release', 'clear', 'status', 'unknown'],
  description: 'The request type (`unknown` for a request whose type could not be read).',
};

const SERVER_OUTCOME: AttributeDefinition = {
  name: 'tierkv.request.outcome',
  values: ['ok', 'client_error', 'busy', 'timeout', 'shutting_down', 'internal_error'],
  description: 'How the server answered: `client_error` covers malformed, unknown, oversized and invalid requests.',
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
    description: 'Time from receiving a request to queueing its reply, by type.',
    attributes: [REQUEST_TYPE],
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
        name: 'tierkv.reject.reason',
        values: ['busy', 'too_large', 'malformed', 'unknown_type', 'invalid', 'shutting_down'],
        description: '`busy`: in-flight limit; `too_large`: maxPayloadBytes or maxKeysPerRequest; `malformed`: undecodable frames; `invalid`: a bad field or layout.',
      },
    ],
  },
  {
    name: 'tierkv.server.auth.failures',
    kind: 'observable_counter',
    unit: '{connection}',
    description: 'Connections refused at the CURVE handshake when server.authToken is set: the peer had no token or a wrong one (nothing it sent was read).',
    attributes: [],
  },
  {
    name: 'tierkv.server.replies.dropped',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Replies that could not be delivered, by reason.',
    attributes: [
      {
        name: 'tierkv.drop.reason',
        values: ['peer_gone', 'peer_slow'],
        description: '`peer_gone`: the client disconnected; `peer_slow`: its reply queue was full (send high-water mark).',
      },
    ],
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
