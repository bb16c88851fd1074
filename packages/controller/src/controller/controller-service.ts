import { debugLogger, type TracerBinding } from '@tierkv/core';
import { KvPool } from '../pool/kv-pool.js';
import { hashView } from '../pool/chunk-hash.js';
import type { WorkerKeys } from '../pool/worker-keys.js';
import {
  PROTOCOL_VERSION,
  OP_ADMIT,
  type ControllerMsg,
  type FullSyncReason,
  type HeartbeatMsg,
  type KvBatchMsg,
  type LookupHolder,
  type LookupMsg,
  type RegisterMsg,
  type ReplyMsg,
  type ScoreMsg,
  type SyncBatchMsg,
  type SyncEndMsg,
  type SyncStartMsg,
  type SyncStatusReply,
  type WorkerCommand,
  type WorkerInfo,
} from '../protocol/messages.js';
import { SyncSession } from '../sync/full-sync.js';
import { workerInfos } from '../workers/worker-info.js';
import { WorkerRegistry, WorkerState, type SyncCounts } from '../workers/worker-registry.js';
import { ControllerStats, type SocketName } from './controller-stats.js';
import { LookupQuery } from './lookup-query.js';

const log = debugLogger('tierkv:controller');

export interface ControllerServiceOptions {
  readonly workerTimeoutMs: number;
  readonly syncTimeoutMs: number;
  /** A heartbeat's numbers are checked against arrivals only once they are this old (events may be in flight). */
  readonly gapGraceMs: number;
  readonly chunkSize: number;
  readonly hashSeed: string;
  readonly now: () => number;
  /** Identifies this controller run; a worker that sees it change re-registers. */
  readonly epoch: string;
  /** Called after each lookup with its duration in seconds. */
  readonly onLookup?: (seconds: number) => void;
  /** Answers a `score` request (the vLLM ingest); without it `score` is refused. */
  readonly score?: (msg: ScoreMsg) => ReplyMsg;
  /** Spans for lookups (`tierkv.controller lookup`); none when absent. */
  readonly tracing?: TracerBinding;
  /** Warnings an operator should see without DEBUG (a sync that stalled). @default debug log only */
  readonly warn?: (line: string) => void;
}

/**
 * The controller's state machine, free of sockets: event batches and requests in, replies out.
 * Everything is synchronous and runs on one event loop, so a message is applied atomically.
 */
export class ControllerService {
  readonly pool = new KvPool();
  readonly registry = new WorkerRegistry();
  readonly stats = new ControllerStats();
  /** Prefix lookups (the `lookup` request, the HTTP route, CacheController.lookup). */
  readonly lookups: LookupQuery;
  readonly #o: ControllerServiceOptions;
  /** The PULL endpoint as bound, told to registering workers (set once the socket is bound). */
  pullEndpoint: string | undefined;

  constructor(options: ControllerServiceOptions) {
    this.#o = options;
    this.lookups = new LookupQuery(this.pool, options);
  }

  get epoch(): string {
    return this.#o.epoch;
  }

  get chunkSize(): number {
    return this.#o.chunkSize;
  }

  /** Handles a fire-and-forget message from the PULL socket. */
  handleEvent(msg: ControllerMsg, socket: SocketName = 'pull'): void {
    switch (msg.t) {
      case 'kv_batch':
        return this.#kvBatch(msg, socket);
      case 'sync_batch':
        return this.#syncBatch(msg, socket);
      default:
        this.stats.drop(socket, 'wrong_socket');
    }
  }

  /** Handles a request from a ROUTER socket and returns its reply. */
  handleRequest(msg: ControllerMsg, socket: SocketName = 'router'): ReplyMsg {
    switch (msg.t) {
      case 'register':
        return this.#register(msg);
      case 'deregister':
        this.deregister(msg.instanceId, msg.workerId);
        return { t: 'ok' };
      case 'heartbeat':
        return this.#heartbeat(msg);
      case 'sync_start':
        return this.#syncStart(msg);
      case 'sync_end':
        return this.#syncEnd(msg);
      case 'sync_status':
        return this.#syncStatusReply(msg.instanceId, msg.workerId, msg.syncId);
      case 'lookup':
        return { t: 'lookup_ok', chunkSize: this.#o.chunkSize, holders: this.lookupMsg(msg) };
      case 'query_workers':
        return { t: 'workers_ok', workers: this.workers() };
      case 'score':
        return this.#o.score ? this.#o.score(msg) : { t: 'error', code: 'ERR_UNSUPPORTED', message: 'this controller follows no vLLM publishers' };
      default:
        this.stats.drop(socket, 'wrong_socket');
        return { t: 'error', code: 'ERR_PROTOCOL', message: `${msg.t} is an event; push it to the PULL socket` };
    }
  }

  // ---- registration and health ----

  #register(msg: RegisterMsg): ReplyMsg {
    if (msg.version !== PROTOCOL_VERSION) {
      return { t: 'error', code: 'ERR_PROTOCOL', message: `protocol version ${msg.version} is not supported (controller speaks ${PROTOCOL_VERSION}); upgrade the older side` };
    }
    const now = this.#o.now();
    const existing = this.registry.get(msg.instanceId, msg.workerId);
    const poolKeys = this.pool.worker(msg.instanceId, msg.workerId)?.size ?? 0;
    // Re-registering with exactly what we already have (e.g. after a DEALER reset) changes nothing.
    if (existing && !existing.syncing && poolKeys === msg.keyCount && sameSeqs(existing.seq.snapshot(), msg.seqs)) {
      existing.lastSeen = now;
      return this.#registerOk(existing);
    }
    if (existing?.syncing) this.#failSync(existing, 'worker re-registered');
    const state = new WorkerState(msg.instanceId, msg.workerId, now);
    state.seq.reset(msg.seqs);
    this.registry.add(state);
    // Keys we hold for it stay until its sync swaps in the truth, unless it says it holds none.
    if (msg.keyCount === 0) this.pool.removeWorker(msg.instanceId, msg.workerId);
    this.pool.ensureWorker(msg.instanceId, msg.workerId);
    // A worker that already holds keys (controller restart, or a worker we forgot) must send them all.
    if (msg.keyCount > 0) this.#requestSync(state, 'registration');
    log('registered %s/%d (keys %d)', msg.instanceId, msg.workerId, msg.keyCount);
    return this.#registerOk(state);
  }

  #registerOk(state: WorkerState): ReplyMsg {
    return { t: 'register_ok', epoch: this.#o.epoch, commands: this.#commandsFor(state), ...(this.pullEndpoint ? { pull: this.pullEndpoint } : {}) };
  }

  deregister(instanceId: string, workerId: number): boolean {
    const s = this.registry.remove(instanceId, workerId);
    this.pool.removeWorker(instanceId, workerId);
    return s !== undefined;
  }

  #heartbeat(msg: HeartbeatMsg): ReplyMsg {
    const state = this.registry.get(msg.instanceId, msg.workerId);
    if (!state) return { t: 'heartbeat_ok', epoch: this.#o.epoch, known: false, commands: [{ c: 'register' }] };
    state.lastSeen = this.#o.now();
    if (!state.syncing) {
      // Events the worker had sent by an earlier heartbeat must have arrived by now (after a grace
      // period for frames still in flight on the PUSH socket); if not, the tail of the stream was lost.
      const now = state.lastSeen;
      if (!state.reportedSeqs) {
        state.reportedSeqs = msg.seqs;
        state.reportedAt = now;
      } else if (now - state.reportedAt >= this.#o.gapGraceMs) {
        if (state.seq.behind(state.reportedSeqs).length > 0) {
          this.stats.discontinuities++;
          this.#requestSync(state, 'sequence_gap');
        }
        state.reportedSeqs = msg.seqs;
        state.reportedAt = now;
      }
    } else {
      state.reportedSeqs = undefined;
    }
    return { t: 'heartbeat_ok', epoch: this.#o.epoch, known: true, commands: this.#commandsFor(state) };
  }

  #commandsFor(state: WorkerState): WorkerCommand[] {
    const out: WorkerCommand[] = state.pending.splice(0);
    if (state.needsSync && !state.syncing) out.push({ c: 'full_sync', reason: state.needsSync });
    return out;
  }

  #requestSync(state: WorkerState, reason: FullSyncReason): void {
    if (state.needsSync) return;
    state.needsSync = reason;
    this.stats.syncRequested[reason]++;
    log('full sync requested from %s/%d: %s', state.instanceId, state.workerId, reason);
  }

  /** Queues a full sync command for the worker's next heartbeat. */
  requestFullSync(instanceId: string, workerId: number): boolean {
    const s = this.registry.get(instanceId, workerId);
    if (!s) return false;
    this.#requestSync(s, 'manual');
    return true;
  }

  /** Queues a `clear` command: the worker empties its storage and reports the evictions. */
  requestClear(instanceId: string, workerId: number): boolean {
    const s = this.registry.get(instanceId, workerId);
    if (!s) return false;
    if (!s.pending.some((c) => c.c === 'clear')) s.pending.push({ c: 'clear' });
    return true;
  }

  /**
   * Deregisters workers silent past the timeout (dropping their keys) and fails syncs without
   * progress past theirs. Called by the reaper timer; tests call it with an injected clock.
   */
  sweep(): void {
    const now = this.#o.now();
    for (const s of [...this.registry.values()]) {
      if (now - s.lastSeen > this.#o.workerTimeoutMs) {
        this.deregister(s.instanceId, s.workerId);
        this.stats.reaped++;
        log('reaped %s/%d (silent %d ms)', s.instanceId, s.workerId, now - s.lastSeen);
        continue;
      }
      if (s.sync?.state === 'syncing' && now - s.sync.lastActivity > this.#o.syncTimeoutMs) {
        const why = `no batch arrived for ${this.#o.syncTimeoutMs} ms (${s.sync.received.size} of ${s.sync.batchCount} in); are the worker's events reaching the PULL socket${this.pullEndpoint ? ` ${this.pullEndpoint}` : ''}?`;
        this.#o.warn?.(`sync ${s.sync.id} of ${s.instanceId}/${s.workerId} failed: ${why}; asking it to sync again`);
        this.#failSync(s, why);
      }
    }
  }

  // ---- events ----

  /** The registered worker an event came from; an event from an unknown worker is dropped (counted). */
  #eventSender(msg: KvBatchMsg | SyncBatchMsg, socket: SocketName): WorkerState | undefined {
    const state = this.registry.get(msg.instanceId, msg.workerId);
    if (!state) this.stats.drop(socket, 'unknown_worker');
    return state;
  }

  #kvBatch(msg: KvBatchMsg, socket: SocketName): void {
    const state = this.#eventSender(msg, socket);
    if (!state) return;
    const n = msg.ops.length;
    const check = state.seq.accept(msg.location, msg.seq, n);
    this.#countOps(msg.ops, 0, check.skip, 'duplicate');
    const session = state.sync?.state === 'syncing' ? state.sync : undefined;
    if (check.gap && !session) {
      this.stats.discontinuities++;
      this.#requestSync(state, 'sequence_gap');
    }
    let applyTo = n;
    if (session) {
      // Events at or past the snapshot point are not in the snapshot: replay them after the swap.
      const cut = session.seqs[msg.location] ?? 0;
      const firstDeferred = Math.max(check.skip, Math.min(n, cut - msg.seq));
      if (firstDeferred < n) {
        const tail: KvBatchMsg = firstDeferred === 0 ? msg : { ...msg, seq: msg.seq + firstDeferred, ops: msg.ops.subarray(firstDeferred), hashes: msg.hashes.subarray(firstDeferred * 8) };
        session.deferred.push({ msg: tail, from: 0 });
        this.#countOps(msg.ops, firstDeferred, n, 'deferred');
        applyTo = firstDeferred;
      }
    }
    if (check.skip < applyTo) this.#apply(this.pool.ensureWorker(msg.instanceId, msg.workerId), msg, check.skip, applyTo);
  }

  #apply(keys: WorkerKeys, msg: KvBatchMsg, from: number, to: number): void {
    const counts = { admitted: 0, evicted: 0 };
    this.pool.applyOps(keys, msg.location, this.pool.scopeId(msg.scope), msg.ops, hashView(msg.hashes), from, to, counts);
    this.stats.ops.admitApplied += counts.admitted;
    this.stats.ops.evictApplied += counts.evicted;
  }

  #countOps(ops: Uint8Array, from: number, to: number, kind: 'duplicate' | 'deferred'): void {
    for (let i = from; i < to; i++) {
      const admit = ops[i] === OP_ADMIT;
      if (kind === 'duplicate') admit ? this.stats.ops.admitDuplicate++ : this.stats.ops.evictDuplicate++;
      else admit ? this.stats.ops.admitDeferred++ : this.stats.ops.evictDeferred++;
    }
  }

  // ---- full sync ----

  #syncStart(msg: SyncStartMsg): ReplyMsg {
    const state = this.registry.get(msg.instanceId, msg.workerId);
    if (!state) return { t: 'sync_start_ok', accepted: false, error: 'unknown worker; register first' };
    state.lastSeen = this.#o.now();
    const cur = state.sync;
    if (cur?.state === 'syncing') {
      if (cur.id === msg.syncId) return { t: 'sync_start_ok', accepted: true }; // a retried start
      this.stats.sessions.rejected++;
      return { t: 'sync_start_ok', accepted: false, error: `sync ${cur.id} is still running; wait for it to finish or time out` };
    }
    state.sync = new SyncSession(msg.instanceId, msg.workerId, msg.syncId, msg.batchCount, msg.totalKeys, msg.seqs, this.#o.now());
    state.needsSync = undefined;
    state.reportedSeqs = undefined;
    log('sync %s started by %s/%d: %d keys in %d batches', msg.syncId, msg.instanceId, msg.workerId, msg.totalKeys, msg.batchCount);
    return { t: 'sync_start_ok', accepted: true };
  }

  #syncBatch(msg: SyncBatchMsg, socket: SocketName): void {
    const state = this.#eventSender(msg, socket);
    if (!state) return;
    const session = state.sync;
    // A batch of another (older) sync, a resent duplicate, or one past the announced count: ignore.
    if (!session || session.id !== msg.syncId || session.state !== 'syncing') return;
    if (msg.batch >= session.batchCount || session.received.has(msg.batch)) return;
    for (const e of msg.entries) session.staged.addAll(e.location, this.pool.scopeId(e.scope), hashView(e.hashes));
    session.received.add(msg.batch);
    session.lastActivity = this.#o.now();
    this.#maybeComplete(state);
  }

  #syncEnd(msg: SyncEndMsg): ReplyMsg {
    const state = this.registry.get(msg.instanceId, msg.workerId);
    if (state?.sync?.id === msg.syncId && state.sync.state === 'syncing') {
      state.sync.endSeen = true;
      state.lastSeen = this.#o.now();
      this.#maybeComplete(state);
    }
    return this.#syncStatusReply(msg.instanceId, msg.workerId, msg.syncId);
  }

  #maybeComplete(state: WorkerState): void {
    const session = state.sync;
    if (!session?.ready) return;
    // The swap: one assignment, so a lookup sees the old set or the new one, never a mix.
    this.pool.replaceWorker(session.staged);
    state.seq.reset(session.seqs);
    session.state = 'completed';
    this.stats.sessions.completed++;
    for (const d of session.deferred.splice(0)) {
      // Replayed through the normal path: sequence checks drop anything the snapshot covered.
      this.#kvBatch(d.msg, 'pull');
    }
    log('sync %s of %s/%d completed: %d keys', session.id, state.instanceId, state.workerId, session.staged.size);
  }

  #failSync(state: WorkerState, why: string): void {
    const session = state.sync;
    if (!session || session.state !== 'syncing') return;
    session.state = 'failed';
    session.deferred.length = 0;
    this.stats.sessions.failed++;
    log('sync %s of %s/%d failed: %s', session.id, state.instanceId, state.workerId, why);
    this.#requestSync(state, 'sync_failed');
  }

  #syncStatusReply(instanceId: string, workerId: number, syncId: string): SyncStatusReply {
    const session = this.registry.get(instanceId, workerId)?.sync;
    const globalProgress = this.syncProgress();
    if (!session || session.id !== syncId) {
      return { t: 'sync_status_ok', syncId, state: 'unknown', receivedBatches: 0, batchCount: 0, missing: [], globalProgress };
    }
    return {
      t: 'sync_status_ok',
      syncId,
      state: session.state,
      receivedBatches: session.received.size,
      batchCount: session.batchCount,
      missing: session.state === 'syncing' ? session.missing() : [],
      globalProgress,
    };
  }

  /** Fraction of registered workers whose latest sync completed. */
  syncProgress(): number {
    return this.registry.syncProgress();
  }

  syncCounts(): SyncCounts {
    return this.registry.syncCounts();
  }

  // ---- queries ----

  /** Prefix lookup for a `lookup` message (validated: hashes or tokens, exactly one). */
  lookupMsg(msg: LookupMsg): LookupHolder[] {
    return this.lookups.run(msg.scope, msg.tokens !== undefined ? { tokens: msg.tokens } : { hashes: msg.hashes ?? [] });
  }

  workers(): WorkerInfo[] {
    return workerInfos(this.registry, this.pool, this.#o.now());
  }
}

function sameSeqs(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
