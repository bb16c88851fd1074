import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

const REQUEST_TYPE: AttributeDefinition = {
  name: ATTR.REQUEST_TYPE,
  values: ['ping', 'store', 'retrieve', 'lookup', 'prefetch_status', 'release', 'clear', 'status'],
  description: 'The request type.',
};

const CLIENT_OUTCOME: AttributeDefinition = {
  name: ATTR.REQUEST_OUTCOME,
  values: ['ok', 'server_error', 'busy', 'timeout', 'closed'],
  description: '`server_error`: an error reply other than BUSY; `timeout`: no reply within the deadline; `closed`: the client closed first.',
};

/** `tierkv.client.*` metrics. */
export const CLIENT_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.client.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Requests a TierkvClient completed, by type and outcome.',
    attributes: [REQUEST_TYPE, CLIENT_OUTCOME],
  },
  {
    name: 'tierkv.client.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Round-trip time of a request as the client sees it, by type.',
    attributes: [REQUEST_TYPE],
  },
  {
    name: 'tierkv.client.sent',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Bytes the client sent in request frames.',
    attributes: [],
  },
  {
    name: 'tierkv.client.received',
    kind: 'observable_counter',
    unit: 'By',
    description: 'Bytes the client received in reply frames.',
    attributes: [],
  },
  {
    name: 'tierkv.client.requests.in_flight',
    kind: 'observable_updowncounter',
    unit: '{request}',
    description: 'Requests sent and not yet answered.',
    attributes: [],
  },
  {
    name: 'tierkv.client.reconnects',
    kind: 'observable_counter',
    unit: '{reconnect}',
    description: 'Times the client recreated its socket after a timeout.',
    attributes: [],
  },
  {
    name: 'tierkv.client.replies.unmatched',
    kind: 'observable_counter',
    unit: '{reply}',
    description: 'Replies that matched no pending request (late after a timeout, or undecodable).',
    attributes: [],
  },
];
