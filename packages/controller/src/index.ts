export { CacheController } from './controller/cache-controller.js';
export type { ControllerAddresses } from './controller/cache-controller.js';
export {
  DEFAULT_CONTROLLER_OPTIONS,
  resolveControllerOptions,
  controllerOptionsFromEnv,
} from './controller/controller-options.js';
export type { CacheControllerOptions, ResolvedCacheControllerOptions, MetricsScrape } from './controller/controller-options.js';
export type { ControllerStats } from './controller/controller-stats.js';

export { WorkerClient } from './worker-client/worker-client.js';
export type { WorkerStorage } from './worker-client/worker-client.js';
export { DEFAULT_WORKER_CLIENT_OPTIONS } from './worker-client/worker-client-options.js';
export type {
  WorkerClientOptions,
  ResolvedWorkerClientOptions,
  ControllerEndpoints,
  WorkerFaults,
} from './worker-client/worker-client-options.js';

export { ControllerClient } from './client/controller-client.js';
export type { ControllerClientOptions } from './client/controller-client.js';

export { encodeMessage, decodeMessage, decodeReply } from './protocol/codec.js';
export { PROTOCOL_VERSION, OP_ADMIT, OP_EVICT } from './protocol/messages.js';
export type {
  ControllerMsg,
  ReplyMsg,
  WireScope,
  LookupHolder,
  WorkerInfo,
  WorkerCommand,
  FullSyncReason,
  SyncState,
} from './protocol/messages.js';
export { hashesToBytes, bytesToHashes } from './pool/chunk-hash.js';
export type { ChunkHashes } from './pool/chunk-hash.js';
export type { LookupInput } from './controller/lookup-query.js';

// vLLM interop (issue 12): vLLM-exact block hashes; tierkv holdings published as vLLM KV events.
export { VllmBlockHasher } from './vllm/vllm-block-hasher.js';
export type { VllmHashAlgo, VllmBlockHasherConfig, VllmBlockExtraKeys } from './vllm/vllm-block-hasher.js';
export { VllmEventPublisher, VllmPublisherStats, VLLM_REPLAY_END_SEQ } from './vllm/vllm-event-publisher.js';
export { DEFAULT_VLLM_EVENT_PUBLISHER_OPTIONS, DEFAULT_L2_MEDIA, OTHER_L2_MEDIUM, resolveVllmEventPublisherOptions } from './vllm/vllm-publisher-options.js';
export type { VllmEventPublisherOptions, ResolvedVllmEventPublisherOptions } from './vllm/vllm-publisher-options.js';
export { encodeVllmEventBatch, chunkHashToU64 } from './vllm/vllm-event-encoder.js';
export type { VllmKvEvent, VllmBlockStored, VllmBlockRemoved, VllmAllBlocksCleared, VllmEventBatch } from './vllm/vllm-event-encoder.js';
// vLLM KV-event ingest and scoring (docs/vllm.md)
export { VllmIngest } from './vllm/vllm-ingest.js';
export type { VllmScoreRequest, VllmScoreResult, VllmPublisherInfo } from './vllm/vllm-ingest.js';
export { resolveVllmPublisher, parseVllmPublisherSpec, MAX_VLLM_PUBLISHERS, DEFAULT_VLLM_BLOCK_SIZE } from './vllm/vllm-publisher-config.js';
export type { VllmPublisherConfig, ResolvedVllmPublisher } from './vllm/vllm-publisher-config.js';
export { DEFAULT_MEDIUM_WEIGHTS, OTHER_MEDIUM_WEIGHT } from './vllm/vllm-scorer.js';
export type { VllmWorkerScore } from './vllm/vllm-scorer.js';
export { decodeVllmBatch } from './vllm/vllm-event-decoder.js';
export type { VllmEvent as VllmDecodedEvent } from './vllm/vllm-events.js';
export { canonicalHash } from './vllm/vllm-hash.js';
