import { ATTR, MeterBinding, type ModelAttributes, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import { REQUEST_TYPES, type RequestType } from '../protocol/messages.js';
import { SERVER_PACKAGE_VERSION } from '../version.js';
import type { ShedReason } from './reply-budget.js';

export type ServerOutcome = 'ok' | 'client_error' | 'busy' | 'timeout' | 'shutting_down' | 'internal_error';
export type RejectReason = 'busy' | 'too_large' | 'malformed' | 'unknown_type' | 'invalid' | 'shutting_down';
export type DropReason = 'peer_gone' | 'peer_slow';
export type CloseReason = 'disconnect' | 'handshake_failed';

const TYPES: readonly (RequestType | 'unknown')[] = [...REQUEST_TYPES, 'unknown'];
const OUTCOMES: readonly ServerOutcome[] = ['ok', 'client_error', 'busy', 'timeout', 'shutting_down', 'internal_error'];
const REJECTS: readonly RejectReason[] = ['busy', 'too_large', 'malformed', 'unknown_type', 'invalid', 'shutting_down'];
const DROPS: readonly DropReason[] = ['peer_gone', 'peer_slow'];
const SHEDS: readonly ShedReason[] = ['client_budget', 'total_budget', 'stalled'];
const CLOSES: readonly CloseReason[] = ['disconnect', 'handshake_failed'];
const TYPE_INDEX = new Map(TYPES.map((t, i) => [t, i]));
const OUTCOME_INDEX = new Map(OUTCOMES.map((o, i) => [o, i]));

/** Live values the server exposes to the observable instruments. */
export interface ServerGauges {
  connectedClients(): number;
  sessions(): number;
  inFlight(): number;
  locksHeld(): number;
  replyBytesQueued(): number;
}

/**
 * `tierkv.server.*` instruments. Counts are plain numbers bumped on the request path and read by
 * one observable callback at collection time; the duration histogram records once per request.
 */
export class ServerMetrics {
  readonly #binding: MeterBinding<{ duration: Histogram }>;
  readonly #requests = new Float64Array(TYPES.length * OUTCOMES.length);
  readonly #rejected = new Float64Array(REJECTS.length);
  readonly #dropped = new Float64Array(DROPS.length);
  readonly #shed = new Float64Array(SHEDS.length);
  readonly #closed = new Float64Array(CLOSES.length);
  #received = 0;
  #sent = 0;
  #locksExpired = 0;
  readonly #durationAttrs = TYPES.map((t) => ({ [ATTR.REQUEST_TYPE]: t }));

  /** Opt-in model and salt attributes on the duration histogram (undefined: off). */
  readonly #models: ModelAttributes | undefined;

  constructor(gauges: ServerGauges, telemetry: TelemetryOptions = {}, models?: ModelAttributes) {
    this.#models = models;
    this.#binding = new MeterBinding(
      { name: '@tierkv/server', version: SERVER_PACKAGE_VERSION },
      (f) => {
        f.observe(
          [
            'tierkv.server.requests',
            'tierkv.server.received',
            'tierkv.server.sent',
            'tierkv.server.clients',
            'tierkv.server.sessions',
            'tierkv.server.requests.in_flight',
            'tierkv.server.requests.rejected',
            'tierkv.server.replies.dropped',
            'tierkv.server.locks.held',
            'tierkv.server.locks.expired',
            'tierkv.server.replies.queued',
            'tierkv.server.clients.shed',
            'tierkv.server.connections.closed',
          ],
          (observe) => {
            for (let t = 0; t < TYPES.length; t++) {
              for (let o = 0; o < OUTCOMES.length; o++) {
                const v = this.#requests[t * OUTCOMES.length + o]!;
                if (v > 0) observe('tierkv.server.requests', v, { [ATTR.REQUEST_TYPE]: TYPES[t]!, [ATTR.REQUEST_OUTCOME]: OUTCOMES[o]! });
              }
            }
            REJECTS.forEach((r, i) => observe('tierkv.server.requests.rejected', this.#rejected[i]!, { [ATTR.REJECT_REASON]: r }));
            DROPS.forEach((r, i) => observe('tierkv.server.replies.dropped', this.#dropped[i]!, { [ATTR.DROP_REASON]: r }));
            SHEDS.forEach((r, i) => observe('tierkv.server.clients.shed', this.#shed[i]!, { [ATTR.SHED_REASON]: r }));
            CLOSES.forEach((r, i) => observe('tierkv.server.connections.closed', this.#closed[i]!, { [ATTR.CLOSE_REASON]: r }));
            observe('tierkv.server.replies.queued', gauges.replyBytesQueued());
            observe('tierkv.server.received', this.#received);
            observe('tierkv.server.sent', this.#sent);
            observe('tierkv.server.clients', gauges.connectedClients());
            observe('tierkv.server.sessions', gauges.sessions());
            observe('tierkv.server.requests.in_flight', gauges.inFlight());
            observe('tierkv.server.locks.held', gauges.locksHeld());
            observe('tierkv.server.locks.expired', this.#locksExpired);
          },
        );
        return { duration: f.histogram('tierkv.server.request.duration') };
      },
      telemetry,
    );
  }

  /** One answered request: its outcome and how long it took (and, when opted in, its chunks' model and salt). */
  request(type: RequestType | 'unknown', outcome: ServerOutcome, seconds: number, scope?: { modelName: string; cacheSalt: string }): void {
    const t = TYPE_INDEX.get(type)!;
    this.#requests[t * OUTCOMES.length + OUTCOME_INDEX.get(outcome)!]++;
    const base = this.#durationAttrs[t]!;
    const attrs = this.#models && scope ? this.#models.of(t, base, scope.modelName, scope.cacheSalt) : base;
    this.#binding.instruments.duration.record(seconds, attrs);
  }

  rejected(reason: RejectReason): void {
    this.#rejected[REJECTS.indexOf(reason)]++;
  }

  dropped(reason: DropReason, replies = 1): void {
    this.#dropped[DROPS.indexOf(reason)] += replies;
  }

  shed(reason: ShedReason): void {
    this.#shed[SHEDS.indexOf(reason)]++;
  }

  connectionClosed(reason: CloseReason): void {
    this.#closed[CLOSES.indexOf(reason)]++;
  }

  /** Shed clients so far, all reasons (for status and tests). */
  get shedTotal(): number {
    return this.#shed.reduce((a, b) => a + b, 0);
  }

  received(bytes: number): void {
    this.#received += bytes;
  }

  sent(bytes: number): void {
    this.#sent += bytes;
  }

  locksExpired(count: number): void {
    this.#locksExpired += count;
  }

  /** Requests answered so far, all types and outcomes. */
  get total(): number {
    let n = 0;
    for (const v of this.#requests) n += v;
    return n;
  }

  close(): void {
    this.#binding.close();
  }
}
