import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

const REQUEST: AttributeDefinition = {
  name: ATTR.CONTROLLER_MESSAGE_TYPE,
  values: ['register', 'deregister', 'heartbeat', 'sync_start', 'sync_end', 'sync_status'],
  description: 'Request sent to the controller over the DEALER socket',
};

/** `tierkv.worker.*` metrics (the controller's worker client, one per StorageManager). */
export const WORKER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.worker.events.sent',
    kind: 'observable_counter',
    unit: '{operation}',
    description: 'KV admit/evict events pushed to the controller',
    attributes: [{ name: ATTR.KV_OPERATION, values: ['admit', 'evict'], description: 'The reported change' }],
  },
  {
    name: 'tierkv.worker.events.dropped',
    kind: 'observable_counter',
    unit: '{operation}',
    description: 'Events that never left the worker; the controller sees a sequence gap and asks for a full sync',
    attributes: [
      {
        name: ATTR.WORKER_DROP_REASON,
        values: ['send_failed', 'overflow', 'fault', 'unreachable'],
        description:
          '`send_failed`: the PUSH send failed or timed out; `overflow`: the pending buffer was full; `fault`: dropped by an injected fault (tests); `unreachable`: the PUSH had no connection to the controller\'s PULL endpoint for longer than `unreachableAfterMs`',
      },
    ],
  },
  {
    name: 'tierkv.worker.events.pending',
    kind: 'observable_gauge',
    unit: '{operation}',
    description: 'Events buffered and not yet sent (batching, or frozen during a full sync)',
    attributes: [],
  },
  {
    name: 'tierkv.worker.batches.sent',
    kind: 'observable_counter',
    unit: '{batch}',
    description: 'Event batches pushed to the controller',
    attributes: [],
  },
  {
    name: 'tierkv.worker.batch.size',
    kind: 'histogram',
    unit: '{operation}',
    description: 'Events per pushed batch',
    attributes: [],
    boundaries: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
  },
  {
    name: 'tierkv.worker.tracked_keys',
    kind: 'observable_gauge',
    unit: '{chunk}',
    description: 'Keys the worker client reported as held (the set a full sync sends)',
    attributes: [],
  },
  {
    name: 'tierkv.worker.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Round trip of a request to the controller that got a reply',
    attributes: [REQUEST],
  },
  {
    name: 'tierkv.worker.request.failures',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Requests to the controller that got no valid reply',
    attributes: [
      REQUEST,
      { name: ATTR.WORKER_FAILURE_REASON, values: ['timeout', 'error'], description: '`timeout`: no reply in time (the DEALER is recreated); `error`: send failed or reply invalid' },
    ],
  },
  {
    name: 'tierkv.worker.reconnects',
    kind: 'observable_counter',
    unit: '{connection}',
    description: 'DEALER sockets recreated after a request timeout',
    attributes: [],
  },
  {
    name: 'tierkv.worker.registrations',
    kind: 'observable_counter',
    unit: '{registration}',
    description: 'Successful registrations with the controller (more than one means the controller restarted or forgot the worker)',
    attributes: [],
  },
  {
    name: 'tierkv.worker.full_sync.runs',
    kind: 'observable_counter',
    unit: '{sync}',
    description: 'Full syncs the worker ran, by outcome',
    attributes: [
      { name: ATTR.FULL_SYNC_OUTCOME, values: ['completed', 'failed', 'rejected'], description: 'How the sync ended' },
    ],
  },
  {
    name: 'tierkv.worker.full_sync.batches_resent',
    kind: 'observable_counter',
    unit: '{batch}',
    description: 'Full sync batches sent again because the controller reported them missing',
    attributes: [],
  },
  {
    name: 'tierkv.worker.controller.unreachable',
    kind: 'observable_gauge',
    unit: '1',
    description: 'Whether what the worker sends is not reaching the controller (1) or is (0); the worker also logs a warning',
    attributes: [
      {
        name: ATTR.WORKER_CHANNEL,
        values: ['events', 'sync'],
        description: '`events`: the PUSH has had no connection to the PULL endpoint for longer than `unreachableAfterMs`; `sync`: the last full sync failed with batches that never arrived',
      },
    ],
  },
];
