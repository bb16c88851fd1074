/** The exporters whose health is reported; the closed value set of the `exporter` attribute. */
export type HealthExporter = 'otlp' | 'console' | 'custom';

/**
 * Plain counters of the push exporters' outcomes, bumped by `GuardedPushExporter` and read at
 * collection time by `ExportHealthMetrics` (so none are lost when the provider changes).
 */
export class ExportHealth {
  readonly #failures = new Map<HealthExporter, number>();
  readonly #successes = new Map<HealthExporter, number>();

  recordFailure(exporter: HealthExporter): void {
    this.#failures.set(exporter, (this.#failures.get(exporter) ?? 0) + 1);
  }

  recordSuccess(exporter: HealthExporter): void {
    this.#successes.set(exporter, (this.#successes.get(exporter) ?? 0) + 1);
  }

  failures(exporter: HealthExporter): number {
    return this.#failures.get(exporter) ?? 0;
  }

  successes(exporter: HealthExporter): number {
    return this.#successes.get(exporter) ?? 0;
  }

  /** Exporters with at least one recorded failure or success. */
  exporters(): HealthExporter[] {
    return [...new Set([...this.#failures.keys(), ...this.#successes.keys()])];
  }
}
