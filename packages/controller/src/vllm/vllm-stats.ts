import type { VllmDecodeError, VllmEventType } from './vllm-events.js';

/** Why a publisher's view was emptied and rebuilt from the stream (a bounded set: the metric attribute). */
export type VllmClearCause = 'no_replay' | 'replay_incomplete' | 'replay_failed' | 'seq_backwards' | 'all_blocks_cleared';
export const VLLM_CLEAR_CAUSES: readonly VllmClearCause[] = ['no_replay', 'replay_incomplete', 'replay_failed', 'seq_backwards', 'all_blocks_cleared'];
export type VllmReplayOutcome = 'ok' | 'partial' | 'failed';

/** Counters of one publisher's stream; read by the metrics at collection time and by GET /vllm/publishers. */
export class VllmPublisherStats {
  readonly batches = { applied: 0, duplicate: 0 };
  readonly events: Record<VllmEventType | 'unknown', number> = { BlockStored: 0, BlockRemoved: 0, AllBlocksCleared: 0, unknown: 0 };
  readonly decodeErrors: Record<VllmDecodeError, number> = { frames: 0, seq: 0, msgpack: 0, batch: 0, event: 0, dp_rank: 0 };
  readonly replays: Record<VllmReplayOutcome, number> = { ok: 0, partial: 0, failed: 0 };
  readonly cleared: Record<VllmClearCause, number> = { no_replay: 0, replay_incomplete: 0, replay_failed: 0, seq_backwards: 0, all_blocks_cleared: 0 };
  seqGaps = 0;
}
