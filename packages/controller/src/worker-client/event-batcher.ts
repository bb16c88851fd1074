import { OP_ADMIT, OP_EVICT, type KvBatchMsg, type SeqMap } from '../protocol/messages.js';
import { hashesToBytes } from '../pool/chunk-hash.js';
import type { Partition } from './key-tracker.js';

interface PendingOp {
  readonly partition: Partition;
  readonly op: typeof OP_ADMIT | typeof OP_EVICT;
  readonly hash: string;
}

/**
 * Buffers admit/evict events and turns them into numbered `kv_batch` messages. Numbers are given
 * when a batch is drained (so a frozen buffer holds un-numbered events, which follow the sync
 * snapshot), per location, one per event. An event dropped for overflow still uses a number, so
 * the controller sees the gap.
 */
export class EventBatcher {
  readonly #instanceId: string;
  readonly #workerId: number;
  readonly #maxPending: number;
  #pending: PendingOp[] = [];
  readonly #nextSeq = new Map<string, number>();
  /** While frozen (a full sync runs) drain() returns nothing. */
  frozen = false;
  overflowed = 0;

  constructor(instanceId: string, workerId: number, maxPending: number) {
    this.#instanceId = instanceId;
    this.#workerId = workerId;
    this.#maxPending = maxPending;
  }

  get pending(): number {
    return this.#pending.length;
  }

  add(partition: Partition, op: typeof OP_ADMIT | typeof OP_EVICT, hash: string): void {
    if (this.#pending.length >= this.#maxPending) {
      this.overflowed++;
      this.#nextSeq.set(partition.location, (this.#nextSeq.get(partition.location) ?? 0) + 1);
      return;
    }
    this.#pending.push({ partition, op, hash });
  }

  /** Next number per location (every event before it was numbered). */
  seqs(): SeqMap {
    return Object.fromEntries(this.#nextSeq);
  }

  /** Numbers and packs pending events: one message per run of events with the same partition. */
  drain(max = Infinity): KvBatchMsg[] {
    if (this.frozen || this.#pending.length === 0) return [];
    const take = this.#pending.length <= max ? this.#pending : this.#pending.slice(0, max);
    this.#pending = take === this.#pending ? [] : this.#pending.slice(max);
    const out: KvBatchMsg[] = [];
    let i = 0;
    while (i < take.length) {
      const p = take[i]!.partition;
      let j = i;
      while (j < take.length && take[j]!.partition.id === p.id) j++;
      const run = take.slice(i, j);
      const seq = this.#nextSeq.get(p.location) ?? 0;
      this.#nextSeq.set(p.location, seq + run.length);
      out.push({
        t: 'kv_batch',
        instanceId: this.#instanceId,
        workerId: this.#workerId,
        location: p.location,
        scope: p.scope,
        seq,
        ops: Uint8Array.from(run, (e) => e.op),
        hashes: hashesToBytes(run.map((e) => e.hash)),
      });
      i = j;
    }
    return out;
  }
}
