import { ClosedError, debugLogger, type ObjectKey } from '@tierkv/core';
import type { L1Listener, L2Listener, StorageManagerListener } from '@tierkv/storage';
import { OP_ADMIT, OP_EVICT, PROTOCOL_VERSION, type ReplyMsg, type WorkerCommand } from '../protocol/messages.js';
import { ControllerConnection } from './controller-connection.js';
import { EventBatcher } from './event-batcher.js';
import { DeliveryWatch } from './delivery-watch.js';
import { runFullSync, type FullSyncResult } from './full-sync-sender.js';
import { KeyTracker } from './key-tracker.js';
import { resolvePullEndpoint } from './pull-endpoint.js';
import { resolveWorkerClientOptions, type ResolvedWorkerClientOptions, type WorkerClientOptions } from './worker-client-options.js';
import { WorkerMetrics } from './worker-metrics.js';
import { WorkerStats } from './worker-stats.js';

const log = debugLogger('tierkv:worker');

/** What the worker client needs from its storage: a StorageManager (or an L1Manager) fits. */
export interface WorkerStorage {
  addListener(listener: StorageManagerListener & L1Listener & L2Listener): () => void;
  /** Used by the controller's `clear` command. */
  clear?(): unknown;
  /**
   * The keys L1 holds now (StorageManager.l1Keys). With it the client seeds its key set on attach
   * (so data written before it attached is reported) and takes it as the truth at each full sync;
   * without it only what the listener events reported is known.
   */
  l1Keys?(): Iterable<ObjectKey>;
}

/**
 * Reports a StorageManager's keys to the cache controller: admits on L1 write finished, evicts on
 * L1 delete/eviction, batched and numbered per location; registers, heartbeats, and runs the full
 * syncs the controller asks for. Sending never blocks the storage path: listener callbacks only
 * append to a buffer.
 */
export class WorkerClient {
  readonly options: ResolvedWorkerClientOptions;
  readonly stats = new WorkerStats();
  readonly #tracker = new KeyTracker();
  readonly #batcher: EventBatcher;
  readonly #metrics: WorkerMetrics;
  readonly #watch: DeliveryWatch;
  #conn: ControllerConnection | undefined;
  #detach: (() => void) | undefined;
  #storage: WorkerStorage | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #heartbeatRunning = false;
  #syncRunning: Promise<void> | undefined;
  #registered = false;
  #registering: Promise<void> | undefined;
  #epoch: string | undefined;
  #state: 'new' | 'running' | 'closed' = 'new';

  constructor(options: WorkerClientOptions) {
    this.options = resolveWorkerClientOptions(options);
    this.#batcher = new EventBatcher(this.options.instanceId, this.options.workerId, this.options.maxPendingEvents);
    this.#watch = new DeliveryWatch(this.options, this.stats);
    this.#metrics = new WorkerMetrics(this.stats, { pending: () => this.#batcher.pending, tracked: () => this.#tracker.size }, { meterProvider: options.meterProvider });
  }

  /** Whether the controller has accepted this worker's registration (and not forgotten it since). */
  get registered(): boolean {
    return this.#registered;
  }

  get syncing(): boolean {
    return this.#syncRunning !== undefined;
  }

  /** Keys reported as held (what a full sync would send). */
  get trackedKeys(): number {
    return this.#tracker.size;
  }

  /** Where events go: the explicit PULL endpoint, or the one the controller named at registration. */
  get pullEndpoint(): string | undefined {
    return this.#conn?.pullEndpoint ?? this.options.controller.pull;
  }

  /** Connects, attaches to `storage`, and registers (retried by the heartbeat loop until it works). */
  async start(storage?: WorkerStorage): Promise<void> {
    if (this.#state === 'closed') throw new ClosedError('WorkerClient', 'start');
    if (this.#state === 'running') throw new Error('WorkerClient.start() was already called');
    this.#state = 'running';
    const o = this.options;
    this.#conn = new ControllerConnection(o.controller, o, this.stats, this.#metrics);
    if (storage) this.attach(storage);
    this.#flushTimer = setInterval(() => void this.flush(), o.flushIntervalMs);
    this.#flushTimer.unref();
    this.#heartbeatTimer = setInterval(() => void this.heartbeat(), o.heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
    await this.#register().catch((err: unknown) => {
      log('register failed (will retry): %s', (err as Error).message);
      this.#watch.registerFailed(err as Error);
    });
  }

  /** Listens to a storage's events (start() does this when given a storage). */
  attach(storage: WorkerStorage): void {
    this.#detach?.();
    this.#storage = storage;
    const loc = this.options.location;
    const listener: StorageManagerListener & L1Listener & L2Listener = {
      onL1KeysWriteFinished: (keys) => this.admit(keys, loc),
      onL1KeysDeleted: (keys) => this.evict(keys, loc),
      onL1KeysEvicted: (keys) => this.evict(keys, loc),
    };
    if (this.options.trackL2) {
      listener.onL2KeysStored = (adapter, keys) => this.admit(keys, `l2:${adapter}`);
      listener.onL2KeysDeleted = (adapter, keys) => this.evict(keys, `l2:${adapter}`);
    }
    this.#detach = storage.addListener(listener);
    // Listing is synchronous, so no L1 event can slip between it and the listener just attached.
    const held = this.#l1Keys();
    if (held && held.length > 0) {
      log('attached to a storage that already holds %d keys: reporting them', held.length);
      this.admit(held, loc);
    }
  }

  /** The storage's L1 key list, or undefined when it has none (or it failed: closed storage). */
  #l1Keys(): ObjectKey[] | undefined {
    const s = this.#storage;
    if (!s?.l1Keys) return undefined;
    try {
      return [...s.l1Keys()];
    } catch (err) {
      log('listing the L1 keys failed: %s', (err as Error).message);
      return undefined;
    }
  }

  /** Reports keys as now held at `location` (the listener calls this; other sources may too). */
  admit(keys: readonly ObjectKey[], location = this.options.location): void {
    this.#record(keys, location, OP_ADMIT);
  }

  /** Reports keys as gone from `location`. */
  evict(keys: readonly ObjectKey[], location = this.options.location): void {
    this.#record(keys, location, OP_EVICT);
  }

  #record(keys: readonly ObjectKey[], location: string, op: typeof OP_ADMIT | typeof OP_EVICT): void {
    if (this.#state === 'closed') return;
    for (const k of keys) {
      const p = this.#tracker.partition(location, k);
      const changed = op === OP_ADMIT ? this.#tracker.admit(p, k.chunkHash) : this.#tracker.evict(p, k.chunkHash);
      if (changed) this.#batcher.add(p, op, k.chunkHash);
    }
    if (this.#batcher.pending >= this.options.batchSize && !this.#batcher.frozen) queueMicrotask(() => void this.flush());
  }

  /** Sends every pending event now (resolves when handed to ZeroMQ). */
  flush(): Promise<void> {
    if (!this.#flushing) {
      this.#flushing = this.#flushNow().finally(() => (this.#flushing = undefined));
      return this.#flushing;
    }
    // A flush is running: chain one more so events added meanwhile go too.
    return this.#flushing.then(() => this.flush());
  }

  #flushBounded(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((r) => (timer = setTimeout(r, this.options.sendTimeoutMs)));
    return Promise.race([this.flush(), limit]).finally(() => clearTimeout(timer));
  }

  async #flushNow(): Promise<void> {
    const conn = this.#conn;
    if (!conn || this.#state !== 'running') return;
    for (;;) {
      // No peer on the PUSH yet (connecting, or the endpoint is still unknown): hold the events,
      // un-numbered. Past `unreachableAfterMs` drop them instead (numbered, so the controller sees
      // a gap and asks for a full sync once they get through) to keep memory bounded.
      const unreachable = !conn.pushReady && this.#watch.eventsUnreachable(conn);
      if (!conn.pushReady && !unreachable) return;
      const msgs = this.#batcher.drain(this.options.batchSize);
      if (msgs.length === 0) return;
      for (const m of msgs) {
        const n = m.ops.length;
        if (unreachable) {
          this.stats.dropped.unreachable += n;
          continue;
        }
        if (this.options.faults?.dropPush?.('kv_batch')) {
          this.stats.dropped.fault += n;
          continue;
        }
        if (!(await conn.push(m))) {
          this.stats.dropped.send_failed += n;
          continue;
        }
        this.stats.batchesSent++;
        this.#metrics.batch(n);
        for (let i = 0; i < n; i++) m.ops[i] === OP_ADMIT ? this.stats.admitsSent++ : this.stats.evictsSent++;
      }
    }
  }

  /** One registration at a time: start() and the heartbeat loop may both ask. */
  #register(): Promise<void> {
    this.#registering ??= this.#registerNow().finally(() => (this.#registering = undefined));
    return this.#registering;
  }

  async #registerNow(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    const o = this.options;
    await this.#flushBounded();
    const reply = await conn.request('register', {
      t: 'register',
      instanceId: o.instanceId,
      workerId: o.workerId,
      version: PROTOCOL_VERSION,
      seqs: this.#batcher.seqs(),
      keyCount: this.#tracker.size,
    });
    if (reply.t !== 'register_ok') throw new Error(`unexpected reply ${reply.t} to register`);
    // An explicit PULL endpoint wins; otherwise push where the controller says it listens.
    if (!o.controller.pull) conn.connectPull(resolvePullEndpoint(reply.pull, o.controller.router));
    this.#registered = true;
    this.#watch.registered();
    this.#epoch = reply.epoch;
    this.stats.registrations++;
    log('registered with controller %s', reply.epoch);
    this.#execute(reply.commands);
  }

  /** One heartbeat round trip (the timer calls this; tests may call it directly). */
  async heartbeat(): Promise<void> {
    if (this.#heartbeatRunning || this.#state !== 'running' || !this.#conn) return;
    this.#heartbeatRunning = true;
    try {
      if (!this.#registered) {
        this.#watch.unregistered();
        await this.#register();
        return;
      }
      this.#watch.checkEvents(this.#conn);
      // Numbered events are on their way (or counted as lost); a PUSH stalled by a down
      // controller must not hold the heartbeat back, so the flush gets a bounded wait only.
      await this.#flushBounded();
      const reply: ReplyMsg = await this.#conn.request('heartbeat', {
        t: 'heartbeat',
        instanceId: this.options.instanceId,
        workerId: this.options.workerId,
        seqs: this.#batcher.seqs(),
        keyCount: this.#tracker.size,
      });
      if (reply.t !== 'heartbeat_ok') return;
      if (!reply.known || reply.epoch !== this.#epoch) {
        // The controller restarted or forgot us: register again; it will ask for a full sync.
        this.#registered = false;
        await this.#register();
        return;
      }
      this.#execute(reply.commands);
    } catch (err) {
      log('heartbeat failed: %s', (err as Error).message);
      if (!this.#registered) this.#watch.registerFailed(err as Error);
    } finally {
      this.#heartbeatRunning = false;
    }
  }

  #execute(commands: readonly WorkerCommand[]): void {
    for (const c of commands) {
      if (c.c === 'full_sync') void this.fullSync(c.reason);
      else if (c.c === 'register') this.#registered = false;
      else if (c.c === 'clear') {
        try {
          void Promise.resolve(this.#storage?.clear?.()).catch((err: unknown) => log('clear failed: %s', (err as Error).message));
        } catch (err) {
          log('clear failed: %s', (err as Error).message);
        }
      }
    }
  }

  /** Runs one full sync now (the controller's command does this); resolves when it ends. */
  fullSync(reason = 'manual'): Promise<void> {
    if (this.#syncRunning) return this.#syncRunning;
    this.#syncRunning = this.#fullSyncNow(reason).finally(() => (this.#syncRunning = undefined));
    return this.#syncRunning;
  }

  async #fullSyncNow(reason: string): Promise<void> {
    const conn = this.#conn;
    if (!conn || this.#state !== 'running') return;
    const o = this.options;
    log('full sync (%s): %d keys', reason, this.#tracker.size);
    // Freeze: everything numbered so far goes out first; later events wait and follow the snapshot.
    await this.flush();
    this.#batcher.frozen = true;
    // The storage's own list is the truth for L1: it corrects keys whose events were lost or
    // never seen. Synchronous with the freeze, so later events follow the snapshot as usual.
    const held = this.#l1Keys();
    if (held) {
      const { added, dropped } = this.#tracker.replaceLocation(o.location, held);
      if (added + dropped > 0) log('full sync: the L1 key list corrected the tracked set (+%d, -%d)', added, dropped);
    }
    let result: FullSyncResult | undefined;
    try {
      // Just registered with a learned PULL endpoint: give the PUSH its handshake before the batches.
      await conn.waitPushReady(o.requestTimeoutMs);
      result = await runFullSync(conn, this.stats, {
        instanceId: o.instanceId,
        workerId: o.workerId,
        snapshot: this.#tracker.snapshot(),
        seqs: this.#batcher.seqs(),
        batchSize: o.syncBatchSize,
        resendRounds: o.syncResendRounds,
        pollIntervalMs: o.syncPollIntervalMs,
        dropPush: o.faults?.dropPush ? () => o.faults!.dropPush!('sync_batch') : undefined,
      });
    } catch (err) {
      log('full sync failed: %s', (err as Error).message);
    } finally {
      this.stats.syncRuns[result?.outcome ?? 'failed']++;
      this.#batcher.frozen = false;
    }
    this.#watch.syncEnded(result, conn);
    if (this.#state === 'running') await this.flush();
  }

  /** Deregisters (best effort, bounded by the request timeout) and closes the sockets. */
  async close(options: { deregister?: boolean } = {}): Promise<void> {
    if (this.#state === 'closed') return;
    const conn = this.#conn;
    if (conn && this.#state === 'running' && options.deregister !== false) {
      await this.flush().catch(() => undefined);
      if (this.#registered) {
        await conn
          .request('deregister', { t: 'deregister', instanceId: this.options.instanceId, workerId: this.options.workerId })
          .catch((err: unknown) => log('deregister failed: %s', (err as Error).message));
      }
    }
    this.#state = 'closed';
    this.#detach?.();
    clearInterval(this.#flushTimer);
    clearInterval(this.#heartbeatTimer);
    conn?.close();
    await this.#syncRunning?.catch(() => undefined);
    this.#metrics.close();
  }

  /** Closes without deregistering or flushing, as a crash would (tests). */
  kill(): Promise<void> {
    return this.close({ deregister: false });
  }
}
