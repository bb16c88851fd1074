import type { FullSyncReason, SeqMap, WorkerCommand } from '../protocol/messages.js';
import { workerKey } from '../pool/kv-pool.js';
import { SequenceTracker } from '../sync/sequence-tracker.js';
import type { SyncSession } from '../sync/full-sync.js';

/** What the controller knows about one registered worker besides its keys. */
export class WorkerState {
  readonly instanceId: string;
  readonly workerId: number;
  readonly key: string;
  readonly registeredAt: number;
  lastSeen: number;
  readonly seq = new SequenceTracker();
  /** Next numbers the previous heartbeat reported; checked at the next one to catch lost trailing events. */
  reportedSeqs: SeqMap | undefined;
  reportedAt = 0;
  /** Set while a full sync should be requested (cleared when one starts). */
  needsSync: FullSyncReason | undefined;
  /** Commands waiting for the next heartbeat reply. */
  readonly pending: WorkerCommand[] = [];
  /** The latest full sync session (kept after it ends, for status and metrics). */
  sync: SyncSession | undefined;

  constructor(instanceId: string, workerId: number, now: number) {
    this.instanceId = instanceId;
    this.workerId = workerId;
    this.key = workerKey(instanceId, workerId);
    this.registeredAt = now;
    this.lastSeen = now;
  }

  get syncing(): boolean {
    return this.sync?.state === 'syncing';
  }
}

/** Workers by the state of their latest full sync, and the batches the running ones still miss. */
export interface SyncCounts {
  syncing: number;
  completed: number;
  failed: number;
  missingBatches: number;
}

/** Registered workers by (instance id, worker id). */
export class WorkerRegistry {
  readonly #workers = new Map<string, WorkerState>();

  get size(): number {
    return this.#workers.size;
  }

  get(instanceId: string, workerId: number): WorkerState | undefined {
    return this.#workers.get(workerKey(instanceId, workerId));
  }

  add(state: WorkerState): void {
    this.#workers.set(state.key, state);
  }

  remove(instanceId: string, workerId: number): WorkerState | undefined {
    const key = workerKey(instanceId, workerId);
    const s = this.#workers.get(key);
    this.#workers.delete(key);
    return s;
  }

  values(): IterableIterator<WorkerState> {
    return this.#workers.values();
  }

  /** Fraction of registered workers whose latest sync completed. */
  syncProgress(): number {
    const n = this.#workers.size;
    if (n === 0) return 0;
    let done = 0;
    for (const s of this.#workers.values()) if (s.sync?.state === 'completed') done++;
    return done / n;
  }

  syncCounts(): SyncCounts {
    const out: SyncCounts = { syncing: 0, completed: 0, failed: 0, missingBatches: 0 };
    for (const s of this.#workers.values()) {
      if (!s.sync) continue;
      out[s.sync.state]++;
      if (s.sync.state === 'syncing') out.missingBatches += s.sync.missingCount;
    }
    return out;
  }
}
