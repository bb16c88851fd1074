import type { ExporterPlugin } from './exporter-plugin.js';

/** No exporter: instruments are recorded into a provider nobody reads (as `OTEL_METRICS_EXPORTER=none`). */
export const nonePlugin: ExporterPlugin = {
  name: 'none',
  create: () => undefined,
};
