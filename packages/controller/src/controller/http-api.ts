import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { context, SpanKind } from '@opentelemetry/api';
import { ATTR, contextFromTraceparent, endSpan, withSpan, type TracerBinding } from '@tierkv/core';
import type { WireScope } from '../protocol/messages.js';
import { validateMessage } from '../protocol/validation.js';
import type { ControllerService } from './controller-service.js';
import type { MetricsScrape } from './controller-options.js';
import type { VllmIngest } from '../vllm/vllm-ingest.js';
import { vllmRoute } from '../vllm/vllm-http.js';

const MAX_BODY = 64 * 1024 * 1024;

export interface HttpApiOptions {
  readonly host: string;
  readonly port: number;
  readonly authToken: string | undefined;
  readonly metrics: MetricsScrape | undefined;
  /** Serves `/vllm/publishers` and `/score` (docs/vllm.md). */
  readonly vllm?: VllmIngest;
  /** SERVER spans for `POST /lookup`, continuing a W3C `traceparent` request header. */
  readonly tracing?: TracerBinding;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The controller's HTTP API (node:http, JSON):
 * `GET /health`, `GET /workers`, `GET /keys/stats`, `POST /lookup`,
 * `POST /workers/:instance/:worker/clear`, `POST /workers/:instance/:worker/sync`,
 * `DELETE /workers/:instance/:worker`, `GET /metrics`; and vLLM's `GET|POST /vllm/publishers`,
 * `DELETE /vllm/publishers/:name`, `POST /score` (vllm-http.ts).
 */
export class HttpApi {
  readonly #service: ControllerService;
  readonly #o: HttpApiOptions;
  readonly #server: Server;
  readonly #token: Buffer | undefined;

  constructor(service: ControllerService, options: HttpApiOptions) {
    this.#service = service;
    this.#o = options;
    this.#token = options.authToken ? Buffer.from(`Bearer ${options.authToken}`) : undefined;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        send(res, status, { error: (err as Error).message });
      });
    });
    this.#server.keepAliveTimeout = 5_000;
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const a = this.#server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://controller');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/health' && method === 'GET') {
      return send(res, 200, { status: 'ok', epoch: this.#service.epoch, workers: this.#service.registry.size, keys: this.#service.pool.size });
    }
    if (this.#token && !this.#authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'missing or wrong bearer token; send Authorization: Bearer <controller.authToken>' });
    }
    if (path === '/metrics' && method === 'GET') {
      if (!this.#o.metrics) {
        return sendText(res, 404, 'text/plain', 'no metrics exporter is attached to this controller; start it through `tierkv controller` (Prometheus via @tierkv/otel) or pass the `metrics` option\n');
      }
      const { contentType, body } = await this.#o.metrics.scrape();
      return sendText(res, 200, contentType, body);
    }
    if (path === '/workers' && method === 'GET') return send(res, 200, { workers: this.#service.workers() });
    if (path === '/keys/stats' && method === 'GET') return send(res, 200, this.#keyStats());
    if (path === '/lookup' && method === 'POST') return this.#tracedLookup(req, res);
    if (this.#o.vllm) {
      const v = await vllmRoute(this.#o.vllm, method, path, () => readJson(req));
      if (v) return send(res, v.status, v.body);
    }
    const m = /^\/workers\/([^/]+)\/(\d+)(?:\/(clear|sync))?$/.exec(path);
    if (m) {
      const instanceId = decodeURIComponent(m[1]!);
      const workerId = Number(m[2]);
      const action = m[3];
      let found: boolean;
      if (!action && method === 'DELETE') found = this.#service.deregister(instanceId, workerId);
      else if (action === 'clear' && method === 'POST') found = this.#service.requestClear(instanceId, workerId);
      else if (action === 'sync' && method === 'POST') found = this.#service.requestFullSync(instanceId, workerId);
      else throw new HttpError(405, `${method} is not allowed on ${path}`);
      if (!found) throw new HttpError(404, `worker ${instanceId}/${workerId} is not registered; see GET /workers`);
      return send(res, action ? 202 : 200, action ? { queued: action } : { removed: true });
    }
    throw new HttpError(404, `no route ${method} ${path}; routes: GET /health /workers /keys/stats /metrics, POST /lookup /score /workers/:instance/:worker/(clear|sync), GET|POST /vllm/publishers, DELETE /workers/:instance/:worker /vllm/publishers/:name`);
  }

  #authorized(req: IncomingMessage): boolean {
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === this.#token!.length && timingSafeEqual(got, this.#token!);
  }

  #keyStats(): unknown {
    const byLocation: Record<string, number> = {};
    const workers = [];
    for (const w of this.#service.pool.workers()) {
      const loc = w.sizeByLocation();
      for (const [k, v] of Object.entries(loc)) byLocation[k] = (byLocation[k] ?? 0) + v;
      workers.push({ instanceId: w.instanceId, workerId: w.workerId, keys: w.size, byLocation: loc });
    }
    const keys = this.#service.pool.size;
    const bytes = this.#service.pool.byteSize;
    return { keys, bytes, bytesPerKey: keys > 0 ? bytes / keys : 0, byLocation, workers };
  }

  async #tracedLookup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const tracing = this.#o.tracing;
    if (!tracing?.tracer()) return send(res, 200, this.#lookup(await readJson(req)));
    const tp = req.headers.traceparent;
    const ts = req.headers.tracestate;
    const parent = contextFromTraceparent(context.active(), typeof tp === 'string' ? tp : undefined, typeof ts === 'string' ? ts : undefined);
    const span = tracing.start('POST /lookup', SpanKind.SERVER, () => ({ [ATTR.HTTP_REQUEST_METHOD]: 'POST', [ATTR.HTTP_ROUTE]: '/lookup' }), parent);
    try {
      const body = await readJson(req);
      const reply = withSpan(span, () => this.#lookup(body));
      endSpan(span, () => ({ [ATTR.HTTP_RESPONSE_STATUS_CODE]: 200 }));
      return send(res, 200, reply);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      endSpan(span, () => ({ [ATTR.HTTP_RESPONSE_STATUS_CODE]: status }), err);
      throw err;
    }
  }

  #lookup(body: unknown): unknown {
    if (typeof body !== 'object' || body === null) throw new HttpError(400, 'expected a JSON object');
    const b = body as Record<string, unknown>;
    const scope: WireScope = {
      modelName: typeof b.modelName === 'string' ? b.modelName : '',
      kvRank: b.kvRank === undefined ? 0 : (b.kvRank as number),
      cacheSalt: b.cacheSalt === undefined ? '' : (b.cacheSalt as string),
    };
    const v = validateMessage({ t: 'lookup', scope, hashes: b.hashes, tokens: b.tokens });
    if (!v.ok || v.msg.t !== 'lookup') {
      throw new HttpError(400, `${v.ok ? 'invalid' : v.detail}; send {"modelName": "...", "tokens": [..]} or {"modelName": "...", "hashes": ["<16 hex>", ..]} (kvRank, cacheSalt optional)`);
    }
    return { chunkSize: this.#service.chunkSize, holders: this.#service.lookupMsg(v.msg) };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json', JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `body larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}
