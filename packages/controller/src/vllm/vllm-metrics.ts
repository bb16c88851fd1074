import { ATTR, MeterBinding, type TelemetryOptions } from '@tierkv/core';
import type { Histogram } from '@opentelemetry/api';
import type { VllmIngest } from './vllm-ingest.js';

const MEDIA = new Set(['gpu', 'cpu', 'disk']);

/** The `tierkv.controller.vllm.*` instruments; counters are read from each subscriber's stats at collection time. */
export class VllmMetrics {
  readonly #binding: MeterBinding<{ scoreDuration: Histogram }>;

  constructor(ingest: VllmIngest, telemetry: TelemetryOptions = {}) {
    this.#binding = new MeterBinding(
      { name: '@tierkv/controller', version: '0.1.0' },
      (f) => {
        f.observe(
          [
            'tierkv.controller.vllm.publishers',
            'tierkv.controller.vllm.events',
            'tierkv.controller.vllm.decode_errors',
            'tierkv.controller.vllm.seq_gaps',
            'tierkv.controller.vllm.replays',
            'tierkv.controller.vllm.views_cleared',
            'tierkv.controller.vllm.blocks',
            'tierkv.controller.vllm.score.requests',
          ],
          (observe) => {
            observe('tierkv.controller.vllm.publishers', ingest.size);
            observe('tierkv.controller.vllm.score.requests', ingest.scoreRequests);
            for (const p of ingest.list()) {
              const publisher = { [ATTR.VLLM_PUBLISHER]: p.name };
              const s = p.stats;
              for (const [type, v] of Object.entries(s.events)) observe('tierkv.controller.vllm.events', v, { ...publisher, [ATTR.VLLM_EVENT_TYPE]: type });
              for (const [reason, v] of Object.entries(s.decodeErrors)) observe('tierkv.controller.vllm.decode_errors', v, { ...publisher, [ATTR.VLLM_DECODE_REASON]: reason });
              observe('tierkv.controller.vllm.seq_gaps', s.seqGaps, publisher);
              for (const [outcome, v] of Object.entries(s.replays)) observe('tierkv.controller.vllm.replays', v, { ...publisher, [ATTR.VLLM_REPLAY_OUTCOME]: outcome });
              for (const [cause, v] of Object.entries(s.cleared)) observe('tierkv.controller.vllm.views_cleared', v, { ...publisher, [ATTR.VLLM_CLEAR_CAUSE]: cause });
              const byMedium: Record<string, number> = { gpu: 0, cpu: 0, disk: 0, other: 0 };
              for (const [m, v] of Object.entries(p.blocks)) byMedium[MEDIA.has(m) ? m : 'other']! += v;
              for (const [medium, v] of Object.entries(byMedium)) observe('tierkv.controller.vllm.blocks', v, { ...publisher, [ATTR.VLLM_MEDIUM]: medium });
            }
          },
        );
        return { scoreDuration: f.histogram('tierkv.controller.vllm.score.duration') };
      },
      telemetry,
    );
  }

  score(seconds: number): void {
    this.#binding.instruments.scoreDuration.record(seconds);
  }

  close(): void {
    this.#binding.close();
  }
}
