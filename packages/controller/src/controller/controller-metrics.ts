import { ATTR, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import type { ControllerService } from './controller-service.js';
import type { SocketName } from './controller-stats.js';

interface Instruments {
  lookupDuration: Histogram;
  messageDuration: Histogram;
}

const SOCKETS: readonly SocketName[] = ['pull', 'router', 'heartbeat', 'query'];

/** The controller's `tierkv.controller.*` instruments; gauges and counts are read at collection time. */
export class ControllerMetrics {
  readonly #binding: MeterBinding<Instruments>;

  constructor(service: ControllerService, pending: (socket: SocketName) => boolean | undefined, telemetry: TelemetryOptions = {}) {
    const stats = service.stats;
    this.#binding = new MeterBinding<Instruments>(
      { name: '@tierkv/controller', version: '0.1.0' },
      (f) => {
        f.observe(
          [
            'tierkv.controller.kv_pool.keys',
            'tierkv.controller.kv_pool.memory',
            'tierkv.controller.workers.registered',
            'tierkv.controller.workers.reaped',
            'tierkv.controller.messages.received',
            'tierkv.controller.socket.pending',
            'tierkv.controller.socket.active_requests',
            'tierkv.controller.frames.dropped',
            'tierkv.controller.kv.operations',
            'tierkv.controller.seq.discontinuities',
            'tierkv.controller.full_sync.requested',
            'tierkv.controller.full_sync.sessions',
            'tierkv.controller.full_sync.workers',
            'tierkv.controller.full_sync.progress',
            'tierkv.controller.full_sync.missing_batches',
            'tierkv.controller.connections.closed',
          ],
          (observe) => {
            observe('tierkv.controller.kv_pool.keys', service.pool.size);
            observe('tierkv.controller.kv_pool.memory', service.pool.byteSize);
            observe('tierkv.controller.workers.registered', service.registry.size);
            observe('tierkv.controller.workers.reaped', stats.reaped);
            for (const socket of SOCKETS) {
              observe('tierkv.controller.messages.received', stats.received[socket], { [ATTR.CONTROLLER_SOCKET]: socket });
              observe('tierkv.controller.socket.active_requests', stats.active[socket], { [ATTR.CONTROLLER_SOCKET]: socket });
              const p = pending(socket);
              if (p !== undefined) observe('tierkv.controller.socket.pending', p ? 1 : 0, { [ATTR.CONTROLLER_SOCKET]: socket });
              for (const [reason, v] of Object.entries(stats.connectionsClosed[socket])) observe('tierkv.controller.connections.closed', v, { [ATTR.CONTROLLER_SOCKET]: socket, [ATTR.CLOSE_REASON]: reason });
            }
            for (const [k, v] of stats.dropped) {
              const [socket, reason] = k.split('|');
              observe('tierkv.controller.frames.dropped', v, { [ATTR.CONTROLLER_SOCKET]: socket, [ATTR.CONTROLLER_DROP_REASON]: reason });
            }
            const o = stats.ops;
            observe('tierkv.controller.kv.operations', o.admitApplied, { [ATTR.KV_OPERATION]: 'admit', [ATTR.KV_RESULT]: 'applied' });
            observe('tierkv.controller.kv.operations', o.evictApplied, { [ATTR.KV_OPERATION]: 'evict', [ATTR.KV_RESULT]: 'applied' });
            observe('tierkv.controller.kv.operations', o.admitDuplicate, { [ATTR.KV_OPERATION]: 'admit', [ATTR.KV_RESULT]: 'duplicate' });
            observe('tierkv.controller.kv.operations', o.evictDuplicate, { [ATTR.KV_OPERATION]: 'evict', [ATTR.KV_RESULT]: 'duplicate' });
            observe('tierkv.controller.kv.operations', o.admitDeferred, { [ATTR.KV_OPERATION]: 'admit', [ATTR.KV_RESULT]: 'deferred' });
            observe('tierkv.controller.kv.operations', o.evictDeferred, { [ATTR.KV_OPERATION]: 'evict', [ATTR.KV_RESULT]: 'deferred' });
            observe('tierkv.controller.seq.discontinuities', stats.discontinuities);
            for (const [reason, v] of Object.entries(stats.syncRequested)) observe('tierkv.controller.full_sync.requested', v, { [ATTR.FULL_SYNC_REASON]: reason });
            for (const [outcome, v] of Object.entries(stats.sessions)) observe('tierkv.controller.full_sync.sessions', v, { [ATTR.FULL_SYNC_OUTCOME]: outcome });
            const sc = service.syncCounts();
            observe('tierkv.controller.full_sync.workers', sc.syncing, { [ATTR.FULL_SYNC_STATE]: 'syncing' });
            observe('tierkv.controller.full_sync.workers', sc.completed, { [ATTR.FULL_SYNC_STATE]: 'completed' });
            observe('tierkv.controller.full_sync.workers', sc.failed, { [ATTR.FULL_SYNC_STATE]: 'failed' });
            observe('tierkv.controller.full_sync.progress', service.syncProgress());
            observe('tierkv.controller.full_sync.missing_batches', sc.missingBatches);
          },
        );
        return {
          lookupDuration: f.histogram('tierkv.controller.lookup.duration'),
          messageDuration: f.histogram('tierkv.controller.message.duration'),
        };
      },
      telemetry,
    );
  }

  lookup(seconds: number): void {
    this.#binding.instruments.lookupDuration.record(seconds);
  }

  message(socket: SocketName, type: string, seconds: number): void {
    this.#binding.instruments.messageDuration.record(seconds, { [ATTR.CONTROLLER_SOCKET]: socket, [ATTR.CONTROLLER_MESSAGE_TYPE]: type });
  }

  close(): void {
    this.#binding.close();
  }
}
