import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerStatus } from '../protocol/messages.js';
import type { MetricsScrape } from './server-options.js';

export interface HttpEndpointsDeps {
  /** False once the server is draining: `/healthz` answers 503 so load balancers move on. */
  healthy(): boolean;
  status(): ServerStatus;
  metrics: MetricsScrape | undefined;
}

/** The HTTP side of the server: `/healthz`, `/status` (JSON) and `/metrics` (when a scrape source is set). */
export class HttpEndpoints {
  readonly #deps: HttpEndpointsDeps;
  readonly #server: Server;

  constructor(deps: HttpEndpointsDeps) {
    this.#deps = deps;
    this.#server = createServer((req, res) => void this.#route(req, res));
    // Scrapers keep connections alive; do not let them hold shutdown up.
    this.#server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET is supported\n');
      switch (path) {
        case '/healthz':
          return this.#deps.healthy() ? send(res, 200, 'text/plain', 'ok\n') : send(res, 503, 'text/plain', 'draining\n');
        case '/status':
          return send(res, 200, 'application/json', `${JSON.stringify(this.#deps.status(), null, 2)}\n`);
        case '/metrics': {
          const m = this.#deps.metrics;
          if (!m) return send(res, 404, 'text/plain', 'no metrics exporter configured; enable the Prometheus exporter\n');
          const { contentType, body } = await m.scrape();
          return send(res, 200, contentType, body);
        }
        default:
          return send(res, 404, 'text/plain', 'not found; try /healthz, /status or /metrics\n');
      }
    } catch (err) {
      send(res, 500, 'text/plain', `internal error: ${(err as Error).message}\n`);
    }
  }
}

function send(res: ServerResponse, code: number, contentType: string, body: string | Uint8Array): void {
  res.writeHead(code, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
