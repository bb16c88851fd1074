import { ATTR, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import type { WorkerStats } from './worker-stats.js';

interface Instruments {
  batchSize: Histogram;
  requestDuration: Histogram;
}

/** The worker client's `tierkv.worker.*` instruments. */
export class WorkerMetrics {
  readonly #binding: MeterBinding<Instruments>;

  constructor(stats: WorkerStats, gauges: { pending: () => number; tracked: () => number }, telemetry: TelemetryOptions = {}) {
    this.#binding = new MeterBinding<Instruments>(
      { name: '@tierkv/controller', version: '0.1.0' },
      (f) => {
        f.observe(
          [
            'tierkv.worker.events.sent',
            'tierkv.worker.events.dropped',
            'tierkv.worker.events.pending',
            'tierkv.worker.batches.sent',
            'tierkv.worker.tracked_keys',
            'tierkv.worker.request.failures',
            'tierkv.worker.reconnects',
            'tierkv.worker.registrations',
            'tierkv.worker.full_sync.runs',
            'tierkv.worker.full_sync.batches_resent',
            'tierkv.worker.controller.unreachable',
          ],
          (observe) => {
            observe('tierkv.worker.events.sent', stats.admitsSent, { [ATTR.KV_OPERATION]: 'admit' });
            observe('tierkv.worker.events.sent', stats.evictsSent, { [ATTR.KV_OPERATION]: 'evict' });
            for (const [reason, v] of Object.entries(stats.dropped)) observe('tierkv.worker.events.dropped', v, { [ATTR.WORKER_DROP_REASON]: reason });
            observe('tierkv.worker.events.pending', gauges.pending());
            observe('tierkv.worker.batches.sent', stats.batchesSent);
            observe('tierkv.worker.tracked_keys', gauges.tracked());
            for (const [k, v] of stats.failures) {
              const [request, reason] = k.split('|');
              observe('tierkv.worker.request.failures', v, { [ATTR.CONTROLLER_MESSAGE_TYPE]: request, [ATTR.WORKER_FAILURE_REASON]: reason });
            }
            observe('tierkv.worker.reconnects', stats.reconnects);
            observe('tierkv.worker.registrations', stats.registrations);
            for (const [outcome, v] of Object.entries(stats.syncRuns)) observe('tierkv.worker.full_sync.runs', v, { [ATTR.FULL_SYNC_OUTCOME]: outcome });
            observe('tierkv.worker.full_sync.batches_resent', stats.batchesResent);
            for (const [channel, v] of Object.entries(stats.unreachable)) observe('tierkv.worker.controller.unreachable', v, { [ATTR.WORKER_CHANNEL]: channel });
          },
        );
        return {
          batchSize: f.histogram('tierkv.worker.batch.size'),
          requestDuration: f.histogram('tierkv.worker.request.duration'),
        };
      },
      telemetry,
    );
  }

  batch(events: number): void {
    this.#binding.instruments.batchSize.record(events);
  }

  request(request: string, seconds: number): void {
    this.#binding.instruments.requestDuration.record(seconds, { [ATTR.CONTROLLER_MESSAGE_TYPE]: request });
  }

  close(): void {
    this.#binding.close();
  }
}
