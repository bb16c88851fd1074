import { ConsoleMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ExporterPlugin } from './exporter-plugin.js';
import { periodicExporter } from './periodic-reader.js';

/** Prints every export to stdout (for trying things out; not for production). */
export const consolePlugin: ExporterPlugin = {
  name: 'console',
  create: (context) => periodicExporter('console', 'console', new ConsoleMetricExporter(), context, 1),
};
