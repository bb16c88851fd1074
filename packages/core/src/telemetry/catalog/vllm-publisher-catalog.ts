import { ATTR } from '../attribute-names.js';
import type { AttributeDefinition, MetricDefinition } from '../metric-definition.js';

const TYPE: AttributeDefinition = { name: ATTR.VLLM_EVENT_TYPE, values: ['BlockStored', 'BlockRemoved'], description: 'The vLLM KV event type' };

/** `tierkv.vllm_publisher.*` metrics (the controller package's VllmEventPublisher, one per StorageManager). */
export const VLLM_PUBLISHER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'tierkv.vllm_publisher.events.published',
    kind: 'observable_counter',
    unit: '{event}',
    description: 'vLLM KV events published on the PUB socket (one event carries the block hashes of one tier change)',
    attributes: [TYPE],
  },
  {
    name: 'tierkv.vllm_publisher.blocks.published',
    kind: 'observable_counter',
    unit: '{block}',
    description: 'Block hashes (tierkv chunks) carried by the published vLLM KV events',
    attributes: [TYPE],
  },
  {
    name: 'tierkv.vllm_publisher.blocks.dropped',
    kind: 'observable_counter',
    unit: '{block}',
    description: 'Block changes dropped because `maxPendingBlocks` were already waiting to be sent',
    attributes: [],
  },
  {
    name: 'tierkv.vllm_publisher.batches.published',
    kind: 'observable_counter',
    unit: '{batch}',
    description: 'Event batches published (one ZeroMQ message each, numbered by seq)',
    attributes: [],
  },
  {
    name: 'tierkv.vllm_publisher.replay.requests',
    kind: 'observable_counter',
    unit: '{request}',
    description: 'Replay requests received on the replay ROUTER',
    attributes: [
      {
        name: ATTR.VLLM_REPLAY_OUTCOME,
        values: ['served', 'invalid'],
        description: '`served`: answered with the retained batches and the end marker; `invalid`: not `["", start_seq (8 bytes)]`, ignored',
      },
    ],
  },
  {
    name: 'tierkv.vllm_publisher.replay.batches',
    kind: 'observable_counter',
    unit: '{batch}',
    description: 'Batches sent again in answer to replay requests',
    attributes: [],
  },
  {
    name: 'tierkv.vllm_publisher.replay.retained',
    kind: 'observable_gauge',
    unit: '{batch}',
    description: 'Batches held in the replay buffer (bounded by `replayBufferBatches` and `replayBufferBytes`)',
    attributes: [],
  },
];
