/** The vLLM KV events this controller understands, after decoding (see vllm-event-decoder.ts). */

export interface VllmBlockStored {
  readonly type: 'BlockStored';
  /** Canonical 64-bit hashes (vllm-hash.ts), in chain order. */
  readonly hashes: readonly bigint[];
  readonly parent: bigint | undefined;
  /** Lowercased; `gpu` when the publisher left it out. */
  readonly medium: string;
  readonly blockSize: number | undefined;
  readonly loraName: string | undefined;
}

export interface VllmBlockRemoved {
  readonly type: 'BlockRemoved';
  readonly hashes: readonly bigint[];
  readonly medium: string;
}

export interface VllmAllBlocksCleared {
  readonly type: 'AllBlocksCleared';
}

export type VllmEvent = VllmBlockStored | VllmBlockRemoved | VllmAllBlocksCleared;
export type VllmEventType = VllmEvent['type'];
export const VLLM_EVENT_TYPES: readonly VllmEventType[] = ['BlockStored', 'BlockRemoved', 'AllBlocksCleared'];

export interface VllmEventBatch {
  readonly ts: number;
  readonly events: readonly VllmEvent[];
  readonly dataParallelRank: number | undefined;
  /** Events of a type this version does not know (a newer vLLM); skipped, counted. */
  readonly unknownEvents: number;
}

/** Why a frame or batch was dropped (a bounded set: the metric attribute). */
export type VllmDecodeError = 'frames' | 'seq' | 'msgpack' | 'batch' | 'event' | 'dp_rank';
export const VLLM_DECODE_ERRORS: readonly VllmDecodeError[] = ['frames', 'seq', 'msgpack', 'batch', 'event', 'dp_rank'];
