/**
 * The controller wire protocol: one tagged union (`t`), msgpack-encoded, one message per frame.
 * Chunk hashes travel as raw bytes (8 per hash, big-endian halves of the 16-hex-char ChunkHash), so
 * a batch of 1000 events is ~9 KB and decodes without per-key strings.
 */

import type { VllmScoreRequest } from '../vllm/vllm-ingest.js';
import type { VllmWorkerScore } from '../vllm/vllm-scorer.js';

/** Protocol revision carried by `register`; a controller refuses a worker with another major. */
export const PROTOCOL_VERSION = 1;

/** Model / rank / salt a chunk hash belongs to (the non-hash part of an ObjectKey). */
export interface WireScope {
  readonly modelName: string;
  readonly kvRank: number;
  readonly cacheSalt: string;
}

/** Next sequence number per location: every event before it was numbered and sent (or dropped). */
export type SeqMap = Readonly<Record<string, number>>;

export const OP_ADMIT = 0;
export const OP_EVICT = 1;

interface WorkerAddressed {
  readonly instanceId: string;
  readonly workerId: number;
}

// ---- worker → controller (PULL) ----

/** A run of events for one location and scope; event i has sequence number `seq + i`. */
export interface KvBatchMsg extends WorkerAddressed {
  readonly t: 'kv_batch';
  readonly location: string;
  readonly scope: WireScope;
  readonly seq: number;
  /** One byte per event: OP_ADMIT or OP_EVICT. */
  readonly ops: Uint8Array;
  /** 8 bytes per event. */
  readonly hashes: Uint8Array;
}

export interface SyncBatchEntry {
  readonly location: string;
  readonly scope: WireScope;
  readonly hashes: Uint8Array;
}

/** Part `batch` (0-based) of a full sync's snapshot; sent over PUSH, so it may be lost and resent. */
export interface SyncBatchMsg extends WorkerAddressed {
  readonly t: 'sync_batch';
  readonly syncId: string;
  readonly batch: number;
  readonly entries: readonly SyncBatchEntry[];
}

// ---- worker → controller (ROUTER requests) ----

export interface RegisterMsg extends WorkerAddressed {
  readonly t: 'register';
  readonly version: number;
  readonly seqs: SeqMap;
  readonly keyCount: number;
}

export interface DeregisterMsg extends WorkerAddressed {
  readonly t: 'deregister';
}

export interface HeartbeatMsg extends WorkerAddressed {
  readonly t: 'heartbeat';
  readonly seqs: SeqMap;
  readonly keyCount: number;
}

/** Opens a sync: the snapshot covers every event numbered below `seqs[location]`. */
export interface SyncStartMsg extends WorkerAddressed {
  readonly t: 'sync_start';
  readonly syncId: string;
  readonly totalKeys: number;
  readonly batchCount: number;
  readonly seqs: SeqMap;
}

export interface SyncEndMsg extends WorkerAddressed {
  readonly t: 'sync_end';
  readonly syncId: string;
  readonly totalKeys: number;
}

export interface SyncStatusMsg extends WorkerAddressed {
  readonly t: 'sync_status';
  readonly syncId: string;
}

// ---- clients → controller (ROUTER requests) ----

export interface LookupMsg {
  readonly t: 'lookup';
  readonly scope: WireScope;
  /** Chunk hashes in order, as 8-byte binary runs or 16-hex-char strings. */
  readonly hashes?: Uint8Array | readonly string[];
  /** Or the tokens themselves, hashed by the controller's TokenHasher. */
  readonly tokens?: readonly number[];
}

/**
 * Scores vLLM publishers (followed by the controller, see docs/vllm.md) by the longest prefix of a
 * request they hold: by vLLM block hashes (uint64 as decimal strings, numbers ≤ 2^53, or hex) or by
 * token ids (hashed like vLLM does, per the publishers' hash settings).
 */
export interface ScoreMsg extends VllmScoreRequest {
  readonly t: 'score';
}

export interface QueryWorkersMsg {
  readonly t: 'query_workers';
}

export type WorkerEventMsg = KvBatchMsg | SyncBatchMsg;
export type RequestMsg =
  | RegisterMsg
  | DeregisterMsg
  | HeartbeatMsg
  | SyncStartMsg
  | SyncEndMsg
  | SyncStatusMsg
  | LookupMsg
  | ScoreMsg
  | QueryWorkersMsg;
export type ControllerMsg = WorkerEventMsg | RequestMsg;
export type MessageType = ControllerMsg['t'];

// ---- controller → worker (replies) ----

export type FullSyncReason = 'sequence_gap' | 'registration' | 'sync_failed' | 'manual';

/** Work the controller asks of a worker, carried by register and heartbeat replies. */
export type WorkerCommand =
  | { readonly c: 'full_sync'; readonly reason: FullSyncReason }
  | { readonly c: 'register' }
  | { readonly c: 'clear' };

export interface RegisterReply {
  readonly t: 'register_ok';
  readonly epoch: string;
  readonly commands: readonly WorkerCommand[];
  /**
   * The controller's PULL endpoint as bound (e.g. `tcp://0.0.0.0:9300`), so a worker given only the
   * ROUTER URL knows where to push its events; a wildcard host means "the host you reached me at".
   */
  readonly pull?: string;
}

export interface HeartbeatReply {
  readonly t: 'heartbeat_ok';
  readonly epoch: string;
  readonly known: boolean;
  readonly commands: readonly WorkerCommand[];
}

export interface OkReply {
  readonly t: 'ok';
}

export interface SyncStartReply {
  readonly t: 'sync_start_ok';
  readonly accepted: boolean;
  readonly error?: string;
}

export type SyncState = 'syncing' | 'completed' | 'failed';

export interface SyncStatusReply {
  readonly t: 'sync_status_ok';
  readonly syncId: string;
  /** `unknown`: the controller has no session with this id (restarted, or another sync replaced it). */
  readonly state: SyncState | 'unknown';
  readonly receivedBatches: number;
  readonly batchCount: number;
  readonly missing: readonly number[];
  /** Fraction of registered workers whose latest sync completed. */
  readonly globalProgress: number;
}

export interface LookupHolder {
  readonly instanceId: string;
  readonly workerId: number;
  /** Contiguous chunks from chunk 0 the worker holds (in any location). */
  readonly chunks: number;
  readonly tokens: number;
  /** The same per location. */
  readonly locations: Readonly<Record<string, number>>;
}

export interface LookupReply {
  readonly t: 'lookup_ok';
  readonly chunkSize: number;
  readonly holders: readonly LookupHolder[];
}

export interface ScoreReply {
  readonly t: 'score_ok';
  readonly model: string;
  /** Best first: per worker the longest prefix (blocks, tokens), per medium, and the weighted score. */
  readonly workers: readonly VllmWorkerScore[];
}

export interface WorkerInfo {
  readonly instanceId: string;
  readonly workerId: number;
  readonly keys: number;
  readonly keysByLocation: Readonly<Record<string, number>>;
  readonly lastHeartbeatAgoMs: number;
  readonly registeredAgoMs: number;
  readonly sync: { readonly id: string; readonly state: SyncState } | null;
  readonly needsSync: boolean;
}

export interface WorkersReply {
  readonly t: 'workers_ok';
  readonly workers: readonly WorkerInfo[];
}

export interface ErrorReply {
  readonly t: 'error';
  readonly code: string;
  readonly message: string;
}

export type ReplyMsg =
  | RegisterReply
  | HeartbeatReply
  | OkReply
  | SyncStartReply
  | SyncStatusReply
  | LookupReply
  | ScoreReply
  | WorkersReply
  | ErrorReply;
