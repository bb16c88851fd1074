import type { KvPool } from '../pool/kv-pool.js';
import type { WorkerInfo } from '../protocol/messages.js';
import type { WorkerRegistry } from './worker-registry.js';

/** What `query_workers` and `GET /workers` report per registered worker, sorted by instance and worker id. */
export function workerInfos(registry: WorkerRegistry, pool: KvPool, now: number): WorkerInfo[] {
  const out: WorkerInfo[] = [];
  for (const s of registry.values()) {
    const keys = pool.worker(s.instanceId, s.workerId);
    out.push({
      instanceId: s.instanceId,
      workerId: s.workerId,
      keys: keys?.size ?? 0,
      keysByLocation: keys?.sizeByLocation() ?? {},
      lastHeartbeatAgoMs: now - s.lastSeen,
      registeredAgoMs: now - s.registeredAt,
      sync: s.sync ? { id: s.sync.id, state: s.sync.state } : null,
      needsSync: s.needsSync !== undefined,
    });
  }
  out.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : a.workerId - b.workerId));
  return out;
}
