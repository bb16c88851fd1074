import { ATTR, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import { L2_METER_SCOPE } from '@tierkv/storage';
import type { Attributes, Histogram } from '@opentelemetry/api';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
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

/** The largest `db.operation.batch.size` bucket: bigger pipelines are reported as this one. */
const MAX_BATCH_BUCKET = 65536;

/** A pipeline's size as the metric reports it: rounded up to a power of two (bounded series; spans carry the exact size). */
export function batchSizeBucket(count: number): number {
  return Math.min(MAX_BATCH_BUCKET, 2 ** Math.ceil(Math.log2(Math.max(2, count))));
}

/**
 * The connection's semantic-convention attributes, from the client's resolved options: the
 * database index (`db.namespace`, a string; a cluster has only database 0) and, for a single
 * node, its host (or Unix socket path) and port. All come from configuration: bounded.
 */
export function redisConnectionAttributes(client: Redis | Cluster, isCluster: boolean): Attributes {
  if (isCluster) return { [ATTR.DB_NAMESPACE]: '0' };
  const options: Partial<RedisOptions> = (client as Redis).options ?? {};
  const attrs: Attributes = { [ATTR.DB_NAMESPACE]: String(options.db ?? 0) };
  if (options.path) attrs[ATTR.SERVER_ADDRESS] = options.path;
  else if (options.host) {
    attrs[ATTR.SERVER_ADDRESS] = options.host;
    if (options.port) attrs[ATTR.SERVER_PORT] = options.port;
  }
  return attrs;
}

/** Most attribute sets kept: 6 commands × 16 batch buckets (plus single commands) × 4 error types stay below it. */
const MAX_ATTRIBUTE_SETS = 512;

/**
 * The Redis adapter's own metrics (see redis-catalog.ts). Counts are plain numbers read at
 * collection time; the duration histogram is recorded once per pipeline.
 */
export class RedisMetrics {
  #binding: MeterBinding<Instruments>;
  #l2Binding: MeterBinding<void>;
  /** The connection's attributes (`db.namespace`, `server.*`), on every duration record. */
  #connection: Attributes = {};
  // Attribute objects built once per (operation, batch bucket, error): a record allocates nothing.
  readonly #attributes = new Map<string, Attributes>();
  readonly #adapterName: string;
  readonly #breakerState: () => BreakerState;
  readonly droppedStores = { breaker_open: 0, error: 0 };
  readonly corrupt: Record<CorruptReason, number> = { truncated: 0, bad_header: 0, checksum: 0, key_mismatch: 0, size_mismatch: 0, layout_mismatch: 0 };
  readonly shortCircuited: Record<ShortCircuitedOperation, number> = { store: 0, lookup: 0, load: 0, delete: 0 };
  readonly transitions: Record<BreakerState, number> = { closed: 0, open: 0, half_open: 0 };

  constructor(adapterName: string, breakerState: () => BreakerState, telemetry: TelemetryOptions) {
    this.#adapterName = adapterName;
    this.#breakerState = breakerState;
    [this.#binding, this.#l2Binding] = this.#bind(telemetry);
  }

  /** Reports through another provider from now on (the StorageManager's); the counts carry over. */
  rebind(telemetry: TelemetryOptions): void {
    this.close();
    [this.#binding, this.#l2Binding] = this.#bind(telemetry);
  }

  /** Sets the connection's attributes (`db.namespace`, `server.address`, `server.port`), once known. */
  setConnection(attributes: Attributes): void {
    this.#connection = Object.freeze({ ...attributes });
    this.#attributes.clear();
  }

  #bind(telemetry: TelemetryOptions): [MeterBinding<Instruments>, MeterBinding<void>] {
    // The generic `tierkv.l2.corrupt` every verifying adapter reports, under the scope the storage
    // package's adapters use, so one dashboard series covers fs, memory and redis.
    const l2Binding = new MeterBinding(
      L2_METER_SCOPE,
      (f) => {
        f.observe(['tierkv.l2.corrupt'], (observe) => {
          let total = 0;
          for (const reason of CORRUPT_REASONS) total += this.corrupt[reason];
          observe('tierkv.l2.corrupt', total, { [ATTR.L2_ADAPTER]: this.#adapterName });
        });
      },
      telemetry,
    );
    const binding = new MeterBinding<Instruments>(
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
            const current = this.#breakerState();
            for (const state of BREAKER_STATES) {
              observe('tierkv.l2.redis.breaker.state', state === current ? 1 : 0, { [ATTR.BREAKER_STATE]: state });
              observe('tierkv.l2.redis.breaker.transitions', this.transitions[state], { [ATTR.BREAKER_STATE]: state });
            }
            observe('tierkv.l2.redis.stores.dropped', this.droppedStores.breaker_open, { [ATTR.L2_DROP_REASON]: 'breaker_open' });
            observe('tierkv.l2.redis.stores.dropped', this.droppedStores.error, { [ATTR.L2_DROP_REASON]: 'error' });
            for (const op of SHORT_CIRCUITED) {
              observe('tierkv.l2.redis.short_circuited', this.shortCircuited[op], { [ATTR.L2_OPERATION]: op });
            }
            for (const reason of CORRUPT_REASONS) observe('tierkv.l2.redis.corrupt', this.corrupt[reason], { [ATTR.L2_CORRUPT_REASON]: reason });
          },
        );
        return { duration: f.histogram('db.client.operation.duration') };
      },
      telemetry,
    );
    return [binding, l2Binding];
  }

  /** One pipeline (or one command) of `count` commands took `seconds`. */
  recordOperation(command: RedisCommand, count: number, seconds: number, error?: RedisErrorType): void {
    try {
      this.#binding.instruments.duration.record(seconds, this.#attributesOf(command, count, error));
    } catch {
      // Telemetry never fails an operation.
    }
  }

  #attributesOf(command: RedisCommand, count: number, error: RedisErrorType | undefined): Attributes {
    const batch = count > 1 ? batchSizeBucket(count) : 0;
    const key = `${command}|${batch}|${error ?? ''}`;
    let attrs = this.#attributes.get(key);
    if (!attrs) {
      const a: Attributes = { ...this.#connection, [ATTR.DB_SYSTEM_NAME]: 'redis', [ATTR.DB_OPERATION_NAME]: batch ? `BATCH ${command}` : command };
      if (batch) a[ATTR.DB_OPERATION_BATCH_SIZE] = batch;
      if (error) a[ATTR.ERROR_TYPE] = error;
      attrs = Object.freeze(a);
      if (this.#attributes.size < MAX_ATTRIBUTE_SETS) this.#attributes.set(key, attrs);
    }
    return attrs;
  }

  close(): void {
    this.#binding.close();
    this.#l2Binding.close();
  }
}
