import { ControllerService } from '../../src/controller/controller-service.js';
import { hashesToBytes } from '../../src/pool/chunk-hash.js';
import { OP_ADMIT, OP_EVICT, type KvBatchMsg, type SyncBatchMsg, type WireScope } from '../../src/protocol/messages.js';
import { hashOf } from './fake-storage.js';

export const SCOPE: WireScope = { modelName: 'm', kvRank: 0, cacheSalt: '' };
export const LOC = 'l1';

/** A controller service with a settable clock. */
export function makeService(opts: { workerTimeoutMs?: number; syncTimeoutMs?: number; chunkSize?: number } = {}) {
  const clock = { now: 1_000_000 };
  const service = new ControllerService({
    workerTimeoutMs: opts.workerTimeoutMs ?? 10_000,
    syncTimeoutMs: opts.syncTimeoutMs ?? 5_000,
    gapGraceMs: 500,
    chunkSize: opts.chunkSize ?? 256,
    hashSeed: '',
    now: () => clock.now,
    epoch: 'e1',
  });
  return { service, clock };
}

export function register(service: ControllerService, instanceId: string, workerId = 0, keyCount = 0, seqs: Record<string, number> = {}) {
  return service.handleRequest({ t: 'register', instanceId, workerId, version: 1, seqs, keyCount });
}

export function batch(instanceId: string, seq: number, ops: readonly ('+' | '-')[], hashes: readonly number[], workerId = 0, location = LOC): KvBatchMsg {
  return {
    t: 'kv_batch',
    instanceId,
    workerId,
    location,
    scope: SCOPE,
    seq,
    ops: Uint8Array.from(ops, (o) => (o === '+' ? OP_ADMIT : OP_EVICT)),
    hashes: hashesToBytes(hashes.map(hashOf)),
  };
}

export function admits(instanceId: string, seq: number, hashes: readonly number[], workerId = 0, location = LOC): KvBatchMsg {
  return batch(instanceId, seq, hashes.map(() => '+'), hashes, workerId, location);
}

export function evicts(instanceId: string, seq: number, hashes: readonly number[], workerId = 0, location = LOC): KvBatchMsg {
  return batch(instanceId, seq, hashes.map(() => '-'), hashes, workerId, location);
}

export function syncBatch(instanceId: string, syncId: string, n: number, hashes: readonly number[], workerId = 0, location = LOC): SyncBatchMsg {
  return { t: 'sync_batch', instanceId, workerId, syncId, batch: n, entries: [{ location, scope: SCOPE, hashes: hashesToBytes(hashes.map(hashOf)) }] };
}

/** The hashes (as numbers) the pool holds for a worker at a location. */
export function poolHashes(service: ControllerService, instanceId: string, workerId = 0, location = LOC): number[] {
  const set = service.pool.worker(instanceId, workerId)?.set(location, service.pool.scopeId(SCOPE));
  const out: number[] = [];
  set?.forEach((hi, lo) => out.push(hi * 2 ** 32 + lo));
  return out.sort((a, b) => a - b);
}
