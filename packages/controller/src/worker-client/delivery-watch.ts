import type { ControllerConnection } from './controller-connection.js';
import type { FullSyncResult } from './full-sync-sender.js';
import type { ResolvedWorkerClientOptions } from './worker-client-options.js';
import type { WorkerStats } from './worker-stats.js';

type WarnKind = 'events' | 'sync' | 'register';

/**
 * Notices when what the worker sends does not reach the controller (a PUSH without a peer, a sync
 * whose batches never arrive, a ROUTER that does not answer) and says so: the
 * `tierkv.worker.controller.unreachable` gauge, and a warning at most once per `warnIntervalMs`
 * per kind, through `warn` (visible without DEBUG). Otherwise a misdirected worker looks healthy
 * while the controller's view of it stays empty.
 */
export class DeliveryWatch {
  readonly #o: ResolvedWorkerClientOptions;
  readonly #stats: WorkerStats;
  readonly #lastWarned = new Map<WarnKind, number>();
  #unregisteredSince: number | undefined = Date.now();

  constructor(options: ResolvedWorkerClientOptions, stats: WorkerStats) {
    this.#o = options;
    this.#stats = stats;
  }

  /** Whether the PUSH has been without a peer past `unreachableAfterMs` (events are then dropped). */
  eventsUnreachable(conn: ControllerConnection): boolean {
    return conn.pushDownMs() >= this.#o.unreachableAfterMs;
  }

  /** Once per heartbeat: updates the events gauge and warns while the PULL endpoint is unreachable. */
  checkEvents(conn: ControllerConnection): void {
    const down = this.eventsUnreachable(conn);
    this.#stats.unreachable.events = down ? 1 : 0;
    if (!down) return;
    const where = conn.pullEndpoint ?? '(not known yet: the controller has not answered a register)';
    this.#warn(
      'events',
      `events for the controller are not getting through: no connection to its PULL endpoint ${where} for ${Math.round(conn.pushDownMs() / 1000)} s ` +
        `(${this.#stats.dropped.unreachable} events dropped so far), so the controller's view of this worker is stale. ` +
        (this.#o.controller.pull
          ? `Check the PULL endpoint given (--controller-pull-url), or leave it unset: the controller tells the worker where to push.`
          : `Check that the controller's PULL port is reachable from here.`),
    );
  }

  /** After each full sync: a sync whose batches did not all arrive sets the sync gauge and warns. */
  syncEnded(result: FullSyncResult | undefined, conn: ControllerConnection): void {
    if (!result || result.outcome === 'rejected') return;
    if (result.outcome === 'completed') {
      this.#stats.unreachable.sync = 0;
      return;
    }
    if (result.received >= result.batchCount) return;
    this.#stats.unreachable.sync = 1;
    this.#warn(
      'sync',
      `full sync ${result.syncId} failed: ${result.received} of ${result.batchCount} batches reached the controller through ${conn.pullEndpoint ?? 'an unknown PULL endpoint'}` +
        `${conn.pushReady ? '' : ' (no connection)'}; the controller will ask again.`,
    );
  }

  registered(): void {
    this.#unregisteredSince = undefined;
  }

  unregistered(): void {
    this.#unregisteredSince ??= Date.now();
  }

  registerFailed(err: Error): void {
    this.#unregisteredSince ??= Date.now();
    const ms = Date.now() - this.#unregisteredSince;
    if (ms < this.#o.unreachableAfterMs) return;
    this.#warn('register', `cannot register with the controller at ${this.#o.controller.router} for ${Math.round(ms / 1000)} s: ${err.message}`);
  }

  #warn(kind: WarnKind, line: string): void {
    const now = Date.now();
    const last = this.#lastWarned.get(kind);
    if (last !== undefined && now - last < this.#o.warnIntervalMs) return;
    this.#lastWarned.set(kind, now);
    try {
      this.#o.warn(`tierkv worker ${this.#o.instanceId}/${this.#o.workerId}: ${line}`);
    } catch {
      // A throwing sink must not break the heartbeat loop.
    }
  }
}
