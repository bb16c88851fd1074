import { randomBytes } from 'node:crypto';
import { debugLogger } from '@tierkv/core';
import { hashesToBytes } from '../pool/chunk-hash.js';
import type { SeqMap, SyncBatchEntry, SyncBatchMsg, SyncStatusReply } from '../protocol/messages.js';
import type { ControllerConnection } from './controller-connection.js';
import type { PartitionSnapshot } from './key-tracker.js';
import type { WorkerStats } from './worker-stats.js';

const log = debugLogger('tierkv:worker');

export interface FullSyncInput {
  readonly instanceId: string;
  readonly workerId: number;
  readonly snapshot: readonly PartitionSnapshot[];
  /** The snapshot covers every event numbered below these. */
  readonly seqs: SeqMap;
  readonly batchSize: number;
  readonly resendRounds: number;
  readonly pollIntervalMs: number;
  readonly dropPush: (() => boolean) | undefined;
}

export interface FullSyncResult {
  readonly outcome: 'completed' | 'failed' | 'rejected';
  readonly syncId: string;
  readonly batchCount: number;
  /** Batches the controller had received when the worker stopped asking (from its last status). */
  readonly received: number;
}

/** Splits a snapshot into batches of at most `batchSize` keys, keeping each key with its partition. */
export function splitSnapshot(snapshot: readonly PartitionSnapshot[], batchSize: number): SyncBatchEntry[][] {
  const batches: SyncBatchEntry[][] = [];
  let cur: SyncBatchEntry[] = [];
  let room = batchSize;
  for (const { partition, hashes } of snapshot) {
    let i = 0;
    while (i < hashes.length) {
      const n = Math.min(room, hashes.length - i);
      cur.push({ location: partition.location, scope: partition.scope, hashes: hashesToBytes(hashes.slice(i, i + n)) });
      i += n;
      room -= n;
      if (room === 0) {
        batches.push(cur);
        cur = [];
        room = batchSize;
      }
    }
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

/**
 * Sends a snapshot as one full sync: start (request), batches (PUSH, may be lost), end (request);
 * then resends what the controller reports missing until it completes or the rounds run out.
 */
export async function runFullSync(conn: ControllerConnection, stats: WorkerStats, input: FullSyncInput): Promise<FullSyncResult> {
  const batches = splitSnapshot(input.snapshot, input.batchSize);
  const totalKeys = input.snapshot.reduce((n, p) => n + p.hashes.length, 0);
  const syncId = `${input.instanceId}/${input.workerId}/${randomBytes(6).toString('hex')}`;
  const who = { instanceId: input.instanceId, workerId: input.workerId };
  const batchCount = batches.length;
  let received = 0;
  const result = (outcome: FullSyncResult['outcome']): FullSyncResult => ({ outcome, syncId, batchCount, received: outcome === 'completed' ? batchCount : received });
  const start = await conn.request('sync_start', { t: 'sync_start', ...who, syncId, totalKeys, batchCount, seqs: input.seqs });
  if (start.t !== 'sync_start_ok' || !start.accepted) {
    log('sync %s rejected: %s', syncId, start.t === 'sync_start_ok' ? start.error : start.t);
    return result('rejected');
  }
  const sendBatch = async (i: number): Promise<void> => {
    if (input.dropPush?.()) {
      stats.dropped.fault++;
      return;
    }
    const msg: SyncBatchMsg = { t: 'sync_batch', ...who, syncId, batch: i, entries: batches[i]! };
    if (!(await conn.push(msg))) stats.dropped.send_failed++;
  };
  for (let i = 0; i < batches.length; i++) await sendBatch(i);
  await conn.drain();
  let status = await conn.request('sync_end', { t: 'sync_end', ...who, syncId, totalKeys });
  for (let round = 0; ; round++) {
    if (status.t !== 'sync_status_ok') return result('failed');
    const s: SyncStatusReply = status;
    received = s.receivedBatches;
    if (s.state === 'completed') return result('completed');
    if (s.state !== 'syncing' || round >= input.resendRounds) return result('failed');
    // Batches may still be in flight on the PUSH socket: look again before resending.
    await delay(input.pollIntervalMs * (round + 1));
    const again = await conn.request('sync_status', { t: 'sync_status', ...who, syncId });
    if (again.t !== 'sync_status_ok') return result('failed');
    received = again.receivedBatches;
    if (again.state === 'completed') return result('completed');
    if (again.state !== 'syncing') return result('failed');
    for (const b of again.missing) {
      stats.batchesResent++;
      await sendBatch(b);
    }
    await conn.drain();
    status = await conn.request('sync_end', { t: 'sync_end', ...who, syncId, totalKeys });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
