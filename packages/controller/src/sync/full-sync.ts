import type { KvBatchMsg, SeqMap, SyncState } from '../protocol/messages.js';
import { WorkerKeys } from '../pool/worker-keys.js';

/** The part of an event batch newer than a running sync's snapshot, replayed after the swap. */
export interface DeferredBatch {
  readonly msg: KvBatchMsg;
  readonly from: number;
}

/**
 * One worker's full sync: the snapshot's batches are staged into a fresh WorkerKeys that replaces
 * the live one only when every batch has arrived and the worker has said `sync_end`. Until then the
 * live keys keep answering lookups.
 */
export class SyncSession {
  readonly id: string;
  readonly batchCount: number;
  readonly totalKeys: number;
  /** The snapshot covers every event numbered below these. */
  readonly seqs: SeqMap;
  readonly startedAt: number;
  readonly staged: WorkerKeys;
  readonly received = new Set<number>();
  readonly deferred: DeferredBatch[] = [];
  state: SyncState = 'syncing';
  endSeen = false;
  /** When the start or the latest batch arrived: `sync_end` and status polls do not count, so a sync whose batches never arrive stalls. */
  lastActivity: number;

  constructor(instanceId: string, workerId: number, id: string, batchCount: number, totalKeys: number, seqs: SeqMap, now: number) {
    this.id = id;
    this.batchCount = batchCount;
    this.totalKeys = totalKeys;
    this.seqs = { ...seqs };
    this.startedAt = now;
    this.lastActivity = now;
    this.staged = new WorkerKeys(instanceId, workerId);
  }

  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.batchCount; i++) if (!this.received.has(i)) out.push(i);
    return out;
  }

  get missingCount(): number {
    return this.batchCount - this.received.size;
  }

  /** All batches in and the worker has ended: ready to swap. */
  get ready(): boolean {
    return this.state === 'syncing' && this.endSeen && this.received.size === this.batchCount;
  }
}
