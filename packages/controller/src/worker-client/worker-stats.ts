export type WorkerRequestKind = 'register' | 'deregister' | 'heartbeat' | 'sync_start' | 'sync_end' | 'sync_status';

/** Plain counters of one worker client, read by its metric callbacks. */
export class WorkerStats {
  admitsSent = 0;
  evictsSent = 0;
  batchesSent = 0;
  readonly dropped = { send_failed: 0, overflow: 0, fault: 0, unreachable: 0 };
  /** 1 while the worker finds its events (PUSH without a peer) or its last full sync (batches missing) not reaching the controller. */
  readonly unreachable = { events: 0, sync: 0 };
  readonly failures = new Map<string, number>();
  reconnects = 0;
  registrations = 0;
  readonly syncRuns = { completed: 0, failed: 0, rejected: 0 };
  batchesResent = 0;

  fail(kind: WorkerRequestKind, reason: 'timeout' | 'error'): void {
    const k = `${kind}|${reason}`;
    this.failures.set(k, (this.failures.get(k) ?? 0) + 1);
  }
}
