import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { InstrumentType } from '@opentelemetry/sdk-metrics';
import { ConfigError, debugLogger } from '@tierkv/core';
import type { ResolvedPrometheusConfig } from '../config/telemetry-config.js';
import { withPrometheusNames } from './prometheus-names.js';
import type { ExporterInstance, ExporterPlugin, ScrapeResult } from './exporter-plugin.js';

/** The Prometheus text exposition format the serializer produces. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const log = debugLogger('tierkv:otel');

/**
 * A Prometheus pull endpoint. The SDK's exporter is used as the reader only (preventServerStart):
 * we bind the HTTP server ourselves so a port in use rejects `startTelemetry` instead of being
 * logged and ignored, and so `scrape()` can serve the same text on the host's own server.
 *
 * A pull reader nobody reads must not accumulate: the SDK stashes every other reader's collection
 * (an OTLP export each interval) for each reader until that reader collects, so with nothing
 * scraping `/metrics` memory grew without bound. When no scrape came for a whole drain interval
 * (the export interval), the endpoint collects and discards once; its values are cumulative, so
 * the next scrape loses nothing.
 *
 * Names follow the OpenTelemetry → Prometheus compatibility rules with unit suffixes
 * (`tierkv_l1_memory_used_bytes`, `tierkv_l2_operation_duration_seconds_bucket`), the names the
 * same metrics get over OTLP from a Collector or Prometheus's OTLP receiver: see withPrometheusNames.
 *
 * Histograms are always explicit-bucket here: the text format (0.0.4) has no native histograms
 * and the SDK's serializer drops exponential ones, so OTLP's exponential choice never applies.
 */
export class PrometheusEndpoint implements ExporterInstance {
  readonly name = 'prometheus';
  readonly reader: PrometheusExporter;
  readonly #config: ResolvedPrometheusConfig;
  readonly #serializer: PrometheusSerializer;
  #server: Server | undefined;
  #url: string | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #collectedSinceDrain = false;
  #drains = 0;

  constructor(config: ResolvedPrometheusConfig, drainIntervalMs = 0, histogramCardinalityLimit?: number) {
    this.#config = config;
    if (drainIntervalMs > 0) {
      this.#drainTimer = setInterval(() => void this.#drain(), drainIntervalMs);
      this.#drainTimer.unref();
    }
    this.reader = new PrometheusExporter({
      preventServerStart: true,
      withoutScopeInfo: config.withoutScopeInfo,
      withoutTargetInfo: config.withoutTargetInfo,
    });
    if (histogramCardinalityLimit !== undefined) {
      // Histograms left without a view (views.histogramsPerReader) take their limit from the reader;
      // the SDK's exporter has no option for it.
      const base = this.reader.selectCardinalityLimit.bind(this.reader);
      this.reader.selectCardinalityLimit = (type) => (type === InstrumentType.HISTOGRAM ? histogramCardinalityLimit : base(type));
    }
    this.#serializer = new PrometheusSerializer(undefined, false, undefined, config.withoutTargetInfo, config.withoutScopeInfo);
  }

  get url(): string | undefined {
    return this.#url;
  }

  /** How many unread collections were drained (tests and diagnostics). */
  get drains(): number {
    return this.#drains;
  }

  async #drain(): Promise<void> {
    if (this.#collectedSinceDrain) {
      this.#collectedSinceDrain = false;
      return;
    }
    try {
      await this.reader.collect();
      this.#drains++;
    } catch (err) {
      // Before the reader is attached to a provider, or after shutdown: nothing is stashed.
      if (log.enabled) log('draining the unread prometheus reader failed: %s', String(err));
    }
  }

  async start(): Promise<void> {
    if (this.#config.preventServerStart) return;
    const { host, port, endpoint } = this.#config;
    const server = createServer((req, res) => this.handle(req, res));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${code ?? String(err)})`;
      throw new ConfigError(
        'prometheus.port',
        `${host}:${port} ${why}; pick another port with prometheus.port or OTEL_EXPORTER_PROMETHEUS_PORT (0 picks a free one), or serve /metrics on your own server with preventServerStart`,
        { cause: err },
      );
    }
    // Like the SDK's exporter: the metrics endpoint alone does not keep the process alive.
    server.unref();
    this.#server = server;
    const address = server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.#url = `http://${shownHost}:${boundPort}${endpoint}`;
    log('prometheus endpoint listening on %s', this.#url);
  }

  async scrape(): Promise<ScrapeResult> {
    this.#collectedSinceDrain = true;
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) log('collection reported %d errors: %o', errors.length, errors);
    return { contentType: PROMETHEUS_CONTENT_TYPE, body: this.#serializer.serialize(withPrometheusNames(resourceMetrics)) };
  }

  /** node:http handler serving the exposition at the configured path. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== this.#config.endpoint) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; metrics are at ${this.#config.endpoint}\n`);
      return;
    }
    serveScrape(() => this.scrape(), req, res);
  };

  async close(): Promise<void> {
    if (this.#drainTimer) clearInterval(this.#drainTimer);
    this.#drainTimer = undefined;
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Writes one scrape as an HTTP response (GET/HEAD only); a failed collection is a 500, never a crash. */
export function serveScrape(scrape: () => Promise<ScrapeResult>, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
    return;
  }
  scrape().then(
    ({ contentType, body }) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`# metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  );
}

export const prometheusPlugin: ExporterPlugin = {
  name: 'prometheus',
  create: ({ config }) =>
    new PrometheusEndpoint(config.prometheus, config.exportIntervalMillis, config.views.histogramsPerReader ? config.views.cardinalityLimit : undefined),
};
