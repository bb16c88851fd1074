import { MeterBinding, type TelemetryOptions } from '@tierkv/core';
import { L2_METER_SCOPE } from '@tierkv/storage';
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { BreakerState } from './circuit-breaker.js';
import type { CorruptReason } from './value-header.js';

export type RedisCommand = 'GET' | 'SET' | 'TOUCH' | 'EXPIRE' | 'UNLINK' | 'SCAN';
export type RedisErrorType = 'timeout' | 'connection' | 'server';
export type ShortCircuitedOperation = 'store' | 'lookup' | 'load' | 'delete';

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];
const CORRUPT_REASONS: readonly CorruptReason[] = ['truncated', 'bad_header', 'checksum', 'key_mismatch', 'size_mismatch', 'layout_mismatch'];
const SHORT_CIRCUITED: readonly ShortCircuitedOperation[] = ['store', 'lookup', 'load', 'delete'];

interface Instruments {
  duration: Histogram;
}

// Attribute objects built once: the histogram is recorded per pipeline, so no allocation per record.
function durationAttributes(): Map<string, Attributes> {
  const out = new Map<string, Attributes>();
  const commands: RedisCommand[] = ['GET', 'SET', 'TOUCH', 'EXPIRE', 'UNLINK', 'SCAN'];
  for (const command of commands) {
    for (const batch of [false, true]) {
      if (batch && command === 'SCAN') continue;
      const name = batch ? `BATCH ${command}` : command;
      for (const error of [undefined, 'timeout', 'connection', 'server'] as const) {
        const attrs: Attributes = { 'db.system.name': 'redis', 'db.operation.name': name };
        if (error) attrs['error.type'] = error;
        out.set(`${name}|${error ?? ''}`, Object.freeze(attrs));
      }
    }
  }
  return out;
}

/**
 * The Redis adapter's own metrics (see redis-catalog.ts). Counts are plain numbers read at
 * collection time; the duration histogram is recorded once per pipeline.
 */
export class RedisMetrics {
  readonly #binding: MeterBinding<Instruments>;
  readonly #l2Binding: MeterBinding<void>;
  readonly #attributes = durationAttributes();
  readonly droppedStores = { breaker_open: 0, error: 0 };
  readonly corrupt: Record<CorruptReason, number> = { truncated: 0, bad_header: 0, checksum: 0, key_mismatch: 0, size_mismatch: 0, layout_mismatch: 0 };
  readonly shortCircuited: Record<ShortCircuitedOperation, number> = { store: 0, lookup: 0, load: 0, delete: 0 };
  readonly transitions: Record<BreakerState, number> = { closed: 0, open: 0, half_open: 0 };

  constructor(adapterName: string, breakerState: () => BreakerState, telemetry: TelemetryOptions) {
    // The generic `tierkv.l2.corrupt` every verifying adapter reports, under the scope the storage
    // package's adapters use, so one dashboard series covers fs, memory and redis.
    this.#l2Binding = new MeterBinding(
      L2_METER_SCOPE,
      (f) => {
        f.observe(['tierkv.l2.corrupt'], (observe) => {
          let total = 0;
          for (const reason of CORRUPT_REASONS) total += this.corrupt[reason];
          observe('tierkv.l2.corrupt', total, { 'tierkv.l2.adapter': adapterName });
        });
      },
      telemetry,
    );
    this.#binding = new MeterBinding(
      { name: '@tierkv/l2-redis', version: '0.1.0' },
      (f) => {
        f.observe(
          [
            'tierkv.l2.redis.breaker.state',
            'tierkv.l2.redis.breaker.transitions',
            'tierkv.l2.redis.stores.dropped',
            'tierkv.l2.redis.short_circuited',
            'tierkv.l2.redis.corrupt',
          ],
          (observe) => {
            const current = breakerState();
            for (const state of BREAKER_STATES) {
              observe('tierkv.l2.redis.breaker.state', state === current ? 1 : 0, { state });
              observe('tierkv.l2.redis.breaker.transitions', this.transitions[state], { to: state });
            }
            observe('tierkv.l2.redis.stores.dropped', this.droppedStores.breaker_open, { reason: 'breaker_open' });
            observe('tierkv.l2.redis.stores.dropped', this.droppedStores.error, { reason: 'error' });
            for (const op of SHORT_CIRCUITED) {
              observe('tierkv.l2.redis.short_circuited', this.shortCircuited[op], { 'tierkv.l2.operation': op });
            }
            for (const reason of CORRUPT_REASONS) observe('tierkv.l2.redis.corrupt', this.corrupt[reason], { reason });
          },
        );
        return { duration: f.histogram('db.client.operation.duration') };
      },
      telemetry,
    );
  }

  /** One pipeline (or one command) of `count` commands took `seconds`. */
  recordOperation(command: RedisCommand, count: number, seconds: number, error?: RedisErrorType): void {
    try {
      const attrs = this.#attributes.get(`${count > 1 ? `BATCH ${command}` : command}|${error ?? ''}`);
      this.#binding.instruments.duration.record(seconds, attrs);
    } catch {
      // Telemetry never fails an operation.
    }
  }

  close(): void {
    this.#binding.close();
    this.#l2Binding.close();
  }
}
