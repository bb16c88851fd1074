import { ATTR, DurationSampler, isNoopHistogram, MeterBinding, type ModelAttributes, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import { L2_METER_SCOPE } from '../l2/l2-metrics.js';

const NO_ATTRIBUTES = Object.freeze({});

/** Live figures the metrics read at collection time (queue depth, active prefetches). */
export interface StorageGauges {
  storeQueueDepth(): number;
  activePrefetches(): number;
  l2ListenerErrors(): number;
}

interface StorageInstruments {
  prefetchDuration: Histogram;
  /** False while the provider is the API's no-op one: then prefetches are not even timed. */
  timing: boolean;
}

/**
 * The `tierkv.storage.*` figures of one StorageManager: plain numbers on the hot path, read by
 * observable instruments; the prefetch duration histogram is sampled (startPrefetch).
 */
export class StorageMetrics {
  readRequests = 0;
  readSucceededKeys = 0;
  readFailedKeys = 0;
  writeRequests = 0;
  writeSucceededKeys = 0;
  writeFailedKeys = 0;
  /** Keys reserveWrite refused under back-pressure, by reason (tierkv.storage.write.rejected_keys). */
  writeRejectedQueueFull = 0;
  writeRejectedQueueBytes = 0;
  lookupRequests = 0;
  lookupRequestedChunks = 0;
  lookupHitChunksL1 = 0;
  lookupHitChunksL2 = 0;
  /** Write-throughs dropped, by reason (the `tierkv.storage.refusal.reason` attribute of tierkv.storage.store.dropped). */
  storeDroppedQueueFull = 0;
  storeDroppedQueueBytes = 0;
  storeDroppedNotInL1 = 0;
  listenerErrors = 0;

  readonly #binding: MeterBinding<StorageInstruments>;

  /** Opt-in model and salt attributes on the prefetch duration (undefined: off). */
  readonly #models: ModelAttributes | undefined;

  /**
   * At most one prefetch is timed per millisecond, as L1 and L2 calls are: a record costs the SDK
   * about a microsecond per reader, several percent of a small prefetch served from L1 (the
   * `otel.instrumentation` bench). With the per-model attributes on, one per (model, salt) pair
   * and millisecond, so a rare tenant's prefetches are not crowded out by a busy one's.
   * `tierkv.storage.prefix_lookup.requests` counts every prefetch.
   */
  readonly #sampler: DurationSampler;

  constructor(gauges: StorageGauges, chunkTokens: number, telemetry: TelemetryOptions = {}, models?: ModelAttributes) {
    this.#models = models;
    this.#sampler = new DurationSampler(models ? models.limit + 1 : 1);
    const l1 = { [ATTR.STORAGE_TIER]: 'l1' };
    const l2 = { [ATTR.STORAGE_TIER]: 'l2' };
    this.#binding = new MeterBinding(
      L2_METER_SCOPE,
      (f) => {
        f.observe(
          [
            'tierkv.storage.read.requests',
            'tierkv.storage.read.succeeded_keys',
            'tierkv.storage.read.failed_keys',
            'tierkv.storage.write.requests',
            'tierkv.storage.write.succeeded_keys',
            'tierkv.storage.write.failed_keys',
            'tierkv.storage.write.rejected_keys',
            'tierkv.storage.prefix_lookup.requests',
            'tierkv.storage.prefix_lookup.requested_chunks',
            'tierkv.storage.prefix_lookup.requested_tokens',
            'tierkv.storage.prefix_lookup.hit_chunks',
            'tierkv.storage.prefix_lookup.hit_tokens',
            'tierkv.storage.store_queue.depth',
            'tierkv.storage.store.dropped',
            'tierkv.storage.prefetch.active',
            'tierkv.storage.listener_errors',
          ],
          (observe) => {
            observe('tierkv.storage.read.requests', this.readRequests);
            observe('tierkv.storage.read.succeeded_keys', this.readSucceededKeys);
            observe('tierkv.storage.read.failed_keys', this.readFailedKeys);
            observe('tierkv.storage.write.requests', this.writeRequests);
            observe('tierkv.storage.write.succeeded_keys', this.writeSucceededKeys);
            observe('tierkv.storage.write.failed_keys', this.writeFailedKeys);
            observe('tierkv.storage.write.rejected_keys', this.writeRejectedQueueFull, { [ATTR.STORAGE_REFUSAL_REASON]: 'queue_full' });
            observe('tierkv.storage.write.rejected_keys', this.writeRejectedQueueBytes, { [ATTR.STORAGE_REFUSAL_REASON]: 'queue_bytes' });
            observe('tierkv.storage.prefix_lookup.requests', this.lookupRequests);
            observe('tierkv.storage.prefix_lookup.requested_chunks', this.lookupRequestedChunks);
            observe('tierkv.storage.prefix_lookup.requested_tokens', this.lookupRequestedChunks * chunkTokens);
            observe('tierkv.storage.prefix_lookup.hit_chunks', this.lookupHitChunksL1, l1);
            observe('tierkv.storage.prefix_lookup.hit_chunks', this.lookupHitChunksL2, l2);
            observe('tierkv.storage.prefix_lookup.hit_tokens', this.lookupHitChunksL1 * chunkTokens, l1);
            observe('tierkv.storage.prefix_lookup.hit_tokens', this.lookupHitChunksL2 * chunkTokens, l2);
            observe('tierkv.storage.store_queue.depth', gauges.storeQueueDepth());
            observe('tierkv.storage.store.dropped', this.storeDroppedQueueFull, { [ATTR.STORAGE_REFUSAL_REASON]: 'queue_full' });
            observe('tierkv.storage.store.dropped', this.storeDroppedQueueBytes, { [ATTR.STORAGE_REFUSAL_REASON]: 'queue_bytes' });
            observe('tierkv.storage.store.dropped', this.storeDroppedNotInL1, { [ATTR.STORAGE_REFUSAL_REASON]: 'not_in_l1' });
            observe('tierkv.storage.prefetch.active', gauges.activePrefetches());
            observe('tierkv.storage.listener_errors', this.listenerErrors, { [ATTR.STORAGE_LISTENER]: 'storage' });
            observe('tierkv.storage.listener_errors', gauges.l2ListenerErrors(), { [ATTR.STORAGE_LISTENER]: 'l2' });
          },
        );
        const prefetchDuration = f.histogram('tierkv.storage.prefetch.duration');
        return { prefetchDuration, timing: !isNoopHistogram(prefetchDuration) };
      },
      telemetry,
    );
  }

  /**
   * The start time (performance.now()) when the prefetch about to start is to be timed, else 0 (no
   * SDK listening, or one prefetch of its sampling slot was timed within the last millisecond).
   * `firstKey` gives the model and salt when the per-model attributes are on.
   */
  startPrefetch(firstKey: ObjectKey | undefined): number {
    if (!this.#binding.instruments.timing) return 0;
    const slot = this.#models && firstKey ? this.#models.pairIndex(firstKey.modelName, firstKey.cacheSalt) : 0;
    return this.#sampler.start(slot);
  }

  /** Records the duration of a settled prefetch that startPrefetch chose to time. Never throws. */
  endPrefetch(startMs: number, firstKey: ObjectKey | undefined): void {
    if (startMs === 0) return;
    try {
      const attrs = this.#models && firstKey ? this.#models.of(0, NO_ATTRIBUTES, firstKey.modelName, firstKey.cacheSalt) : undefined;
      this.#binding.instruments.prefetchDuration.record((performance.now() - startMs) / 1000, attrs);
    } catch {
      // A metric must never fail a prefetch.
    }
  }

  close(): void {
    this.#sampler.close();
    this.#binding.close();
  }
}
