import { ConfigError, InvalidArgumentError } from '@tierkv/core';
import type { VllmIngest } from './vllm-ingest.js';
import { asScoreRequest, badScoreField, scoreRequestFromHttp } from './vllm-score-request.js';

export interface VllmHttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The HTTP API's vLLM routes: `GET /vllm/publishers`, `POST /vllm/publishers` (body: one publisher
 * config), `DELETE /vllm/publishers/:name`, `POST /score`. Undefined when the path is not one of
 * them; authentication happened before (the API's bearer token guards these like every route).
 */
export async function vllmRoute(ingest: VllmIngest, method: string, path: string, body: () => Promise<unknown>): Promise<VllmHttpAnswer | undefined> {
  if (path === '/vllm/publishers') {
    if (method === 'GET') return { status: 200, body: { publishers: ingest.list() } };
    if (method !== 'POST') return { status: 405, body: { error: `${method} is not allowed on ${path}` } };
    try {
      return { status: 201, body: ingest.add((await body()) as never) };
    } catch (err) {
      if (err instanceof ConfigError) return { status: /already followed/.test(err.message) ? 409 : 400, body: { error: err.message } };
      throw err;
    }
  }
  const m = /^\/vllm\/publishers\/([^/]+)$/.exec(path);
  if (m) {
    if (method !== 'DELETE') return { status: 405, body: { error: `${method} is not allowed on ${path}` } };
    const name = decodeURIComponent(m[1]!);
    if (!(await ingest.remove(name))) return { status: 404, body: { error: `no vLLM publisher named ${JSON.stringify(name)}; see GET /vllm/publishers` } };
    return { status: 200, body: { removed: true } };
  }
  if (path === '/score') {
    if (method !== 'POST') return { status: 405, body: { error: `${method} is not allowed on ${path}` } };
    const b = await body();
    if (typeof b !== 'object' || b === null || Array.isArray(b)) return { status: 400, body: { error: 'expected a JSON object' } };
    const req = scoreRequestFromHttp(b as Record<string, unknown>);
    const bad = badScoreField(req);
    if (bad) return { status: 400, body: { error: `bad or missing \`${bad}\`; send {"model": "...", "tokens": [..]} or {"model": "...", "block_hashes": ["<uint64 decimal or hex>", ..]} (workers, medium_weights, lora_name, cache_salt optional)` } };
    try {
      return { status: 200, body: ingest.score(asScoreRequest(req)) };
    } catch (err) {
      if (err instanceof InvalidArgumentError) return { status: 400, body: { error: err.message } };
      throw err;
    }
  }
  return undefined;
}
