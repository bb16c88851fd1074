import { ConfigError, checkAuthToken, refuseUnknownOptions, type TelemetryOptions } from '@tierkv/core';
import { MAX_KEYS_PER_FRAME } from '../protocol/validation.js';

/** Where the controller listens (see CacheController.addresses). */
export interface ControllerEndpoints {
  /**
   * The controller's PULL socket, e.g. `tcp://127.0.0.1:9300`. Leave it out and the worker pushes
   * to the endpoint the controller names in its register reply (a wildcard bind such as
   * `tcp://*:9300` is dialled at the router's host); set, it wins over what the controller says.
   */
  readonly pull?: string;
  /** The controller's ROUTER socket, e.g. `tcp://127.0.0.1:9301`. */
  readonly router: string;
  /** The separate heartbeat ROUTER, if the controller has one. */
  readonly heartbeat?: string;
}

/** Test hook: decide to lose an outbound PUSH message (the worker still numbers it). */
export interface WorkerFaults {
  dropPush?(type: 'kv_batch' | 'sync_batch'): boolean;
}

export interface WorkerClientOptions extends TelemetryOptions {
  controller: ControllerEndpoints;
  /** The serving instance this worker belongs to. Required. */
  instanceId: string;
  /** The worker's number within its instance. @default 0 */
  workerId?: number;
  /** Location name for L1 events. @default 'l1' */
  location?: string;
  /** Also report L2 stores/deletes, under location `l2:<adapter>`. @default false */
  trackL2?: boolean;
  /** Send a batch once this many events are pending. @default 512 */
  batchSize?: number;
  /** Send pending events at least this often. @default 20 */
  flushIntervalMs?: number;
  /** @default 1_000 */
  heartbeatIntervalMs?: number;
  /** Deadline for one request/reply; after it the DEALER is recreated. @default 3_000 */
  requestTimeoutMs?: number;
  /** Deadline for one PUSH send (blocked by a full queue). @default 1_000 */
  sendTimeoutMs?: number;
  /** Keys per full sync batch. @default 5_000 */
  syncBatchSize?: number;
  /** Rounds of resending missing sync batches before giving up. @default 5 */
  syncResendRounds?: number;
  /** Wait before asking for the status of a sync whose batches are still in flight. @default 50 */
  syncPollIntervalMs?: number;
  /** Events buffered at most (while the controller is slow or a sync runs); beyond it they are dropped and a gap tells the controller. @default 1_000_000 */
  maxPendingEvents?: number;
  /**
   * The PUSH socket may go this long without a connection to the controller's PULL endpoint before
   * the worker warns, and drops (counts) events instead of holding them. @default 5_000
   */
  unreachableAfterMs?: number;
  /** A warning repeats at most this often (per kind). @default 30_000 */
  warnIntervalMs?: number;
  /** Where warnings go (events or syncs not reaching the controller). @default console.warn */
  warn?: (line: string) => void;
  /** Fault injection for tests. */
  faults?: WorkerFaults;
  /** The controller's `authToken`, when it has one (its sockets then speak CURVE). */
  authToken?: string;
}

export interface ResolvedWorkerClientOptions {
  readonly controller: ControllerEndpoints;
  readonly instanceId: string;
  readonly workerId: number;
  readonly location: string;
  readonly trackL2: boolean;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly sendTimeoutMs: number;
  readonly syncBatchSize: number;
  readonly syncResendRounds: number;
  readonly syncPollIntervalMs: number;
  readonly maxPendingEvents: number;
  readonly unreachableAfterMs: number;
  readonly warnIntervalMs: number;
  readonly warn: (line: string) => void;
  readonly faults: WorkerFaults | undefined;
  readonly authToken: string | undefined;
}

export const DEFAULT_WORKER_CLIENT_OPTIONS = Object.freeze({
  workerId: 0,
  location: 'l1',
  trackL2: false,
  batchSize: 512,
  flushIntervalMs: 20,
  heartbeatIntervalMs: 1_000,
  requestTimeoutMs: 3_000,
  sendTimeoutMs: 1_000,
  syncBatchSize: 5_000,
  syncResendRounds: 5,
  syncPollIntervalMs: 50,
  maxPendingEvents: 1_000_000,
  unreachableAfterMs: 5_000,
  warnIntervalMs: 30_000,
});

export function resolveWorkerClientOptions(o: WorkerClientOptions): ResolvedWorkerClientOptions {
  const d = DEFAULT_WORKER_CLIENT_OPTIONS;
  if (!o || typeof o.controller?.router !== 'string' || (o.controller.pull !== undefined && typeof o.controller.pull !== 'string')) {
    throw new ConfigError('worker.controller', 'expected { router, pull? } endpoints, e.g. { router: \'tcp://127.0.0.1:9301\' } or the CacheController\'s addresses');
  }
  if (o.warn !== undefined && typeof o.warn !== 'function') throw new ConfigError('worker.warn', 'expected a function (line: string) => void');
  if (typeof o.instanceId !== 'string' || o.instanceId.length === 0 || o.instanceId.length > 256) {
    throw new ConfigError('worker.instanceId', 'expected a non-empty string of at most 256 characters');
  }
  const pos = (field: string, v: number | undefined, dflt: number, integer = true): number => {
    const n = v ?? dflt;
    if (typeof n !== 'number' || !(n > 0) || (integer && !Number.isInteger(n))) throw new ConfigError(`worker.${field}`, `expected a positive ${integer ? 'integer' : 'number'}, got ${n}`);
    return n;
  };
  const workerId = o.workerId ?? d.workerId;
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > 0xffff_ffff) throw new ConfigError('worker.workerId', `expected an integer in [0, 2^32), got ${workerId}`);
  const location = o.location ?? d.location;
  if (typeof location !== 'string' || location.length === 0 || location.length > 256) throw new ConfigError('worker.location', 'expected a non-empty string');
  const r: ResolvedWorkerClientOptions = {
    controller: o.controller,
    instanceId: o.instanceId,
    workerId,
    location,
    trackL2: o.trackL2 ?? d.trackL2,
    batchSize: atMostOneFrame('batchSize', pos('batchSize', o.batchSize, d.batchSize)),
    flushIntervalMs: pos('flushIntervalMs', o.flushIntervalMs, d.flushIntervalMs, false),
    heartbeatIntervalMs: pos('heartbeatIntervalMs', o.heartbeatIntervalMs, d.heartbeatIntervalMs, false),
    requestTimeoutMs: pos('requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs),
    sendTimeoutMs: pos('sendTimeoutMs', o.sendTimeoutMs, d.sendTimeoutMs),
    syncBatchSize: atMostOneFrame('syncBatchSize', pos('syncBatchSize', o.syncBatchSize, d.syncBatchSize)),
    syncResendRounds: pos('syncResendRounds', o.syncResendRounds, d.syncResendRounds),
    syncPollIntervalMs: pos('syncPollIntervalMs', o.syncPollIntervalMs, d.syncPollIntervalMs, false),
    maxPendingEvents: pos('maxPendingEvents', o.maxPendingEvents, d.maxPendingEvents),
    unreachableAfterMs: pos('unreachableAfterMs', o.unreachableAfterMs, d.unreachableAfterMs, false),
    warnIntervalMs: pos('warnIntervalMs', o.warnIntervalMs, d.warnIntervalMs, false),
    warn: o.warn ?? ((line) => console.warn(line)),
    faults: o.faults,
    authToken: checkAuthToken(o.authToken, 'worker.authToken'),
  };
  refuseUnknownOptions(o, [...Object.keys(r), 'meterProvider'], 'worker');
  return r;
}

/** A batch is one frame, and the controller refuses frames of more than MAX_KEYS_PER_FRAME keys. */
function atMostOneFrame(field: string, n: number): number {
  if (n > MAX_KEYS_PER_FRAME) throw new ConfigError(`worker.${field}`, `${n} is above ${MAX_KEYS_PER_FRAME} keys, the most the controller accepts in one frame`);
  return n;
}
