import { ATTR, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import { REQUEST_TYPES, type RequestType } from '../protocol/messages.js';
import { SERVER_PACKAGE_VERSION } from '../version.js';

export type ClientOutcome = 'ok' | 'server_error' | 'busy' | 'timeout' | 'closed';

const OUTCOMES: readonly ClientOutcome[] = ['ok', 'server_error', 'busy', 'timeout', 'closed'];
const TYPE_INDEX = new Map(REQUEST_TYPES.map((t, i) => [t, i]));
const OUTCOME_INDEX = new Map(OUTCOMES.map((o, i) => [o, i]));

/** `tierkv.client.*` instruments: plain counts read at collection, one histogram record per call. */
export class ClientMetrics {
  readonly #binding: MeterBinding<{ duration: Histogram }>;
  readonly #requests = new Float64Array(REQUEST_TYPES.length * OUTCOMES.length);
  readonly #durationAttrs = REQUEST_TYPES.map((t) => ({ [ATTR.REQUEST_TYPE]: t }));
  #sent = 0;
  #received = 0;
  #reconnects = 0;
  #unmatched = 0;

  constructor(inFlight: () => number, telemetry: TelemetryOptions = {}) {
    this.#binding = new MeterBinding(
      { name: '@tierkv/server/client', version: SERVER_PACKAGE_VERSION },
      (f) => {
        f.observe(
          ['tierkv.client.requests', 'tierkv.client.sent', 'tierkv.client.received', 'tierkv.client.requests.in_flight', 'tierkv.client.reconnects', 'tierkv.client.replies.unmatched'],
          (observe) => {
            for (let t = 0; t < REQUEST_TYPES.length; t++) {
              for (let o = 0; o < OUTCOMES.length; o++) {
                const v = this.#requests[t * OUTCOMES.length + o]!;
                if (v > 0) observe('tierkv.client.requests', v, { [ATTR.REQUEST_TYPE]: REQUEST_TYPES[t]!, [ATTR.REQUEST_OUTCOME]: OUTCOMES[o]! });
              }
            }
            observe('tierkv.client.sent', this.#sent);
            observe('tierkv.client.received', this.#received);
            observe('tierkv.client.requests.in_flight', inFlight());
            observe('tierkv.client.reconnects', this.#reconnects);
            observe('tierkv.client.replies.unmatched', this.#unmatched);
          },
        );
        return { duration: f.histogram('tierkv.client.request.duration') };
      },
      telemetry,
    );
  }

  request(type: RequestType, outcome: ClientOutcome, seconds: number): void {
    const t = TYPE_INDEX.get(type)!;
    this.#requests[t * OUTCOMES.length + OUTCOME_INDEX.get(outcome)!]++;
    this.#binding.instruments.duration.record(seconds, this.#durationAttrs[t]);
  }

  sent(bytes: number): void {
    this.#sent += bytes;
  }

  received(bytes: number): void {
    this.#received += bytes;
  }

  reconnected(): void {
    this.#reconnects++;
  }

  unmatched(): void {
    this.#unmatched++;
  }

  close(): void {
    this.#binding.close();
  }
}
