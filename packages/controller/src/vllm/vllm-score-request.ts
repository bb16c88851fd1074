import type { VllmScoreRequest } from './vllm-ingest.js';

/** Bounds of one score request, in line with the controller's other per-frame limits (tokens as a lookup's MAX_LOOKUP_TOKENS). */
export const MAX_SCORE_BLOCKS = 1 << 16;
export const MAX_SCORE_TOKENS = 4 << 20;
export const MAX_SCORE_WORKERS = 256;
const MAX_STR = 1024;

/**
 * Checks a score request (the ZeroMQ `score` message's fields, or the HTTP body after renaming);
 * returns the name of the first bad field, or undefined when it is well-formed.
 */
export function badScoreField(m: Record<string, unknown>): string | undefined {
  if (typeof m.model !== 'string' || m.model.length === 0 || m.model.length > MAX_STR) return 'model';
  if ((m.tokens === undefined) === (m.blockHashes === undefined)) return 'tokens|block_hashes (exactly one)';
  if (m.tokens !== undefined) {
    if (!Array.isArray(m.tokens) || m.tokens.length > MAX_SCORE_TOKENS) return 'tokens';
    for (const t of m.tokens) if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffff_ffff) return 'tokens';
  }
  if (m.blockHashes !== undefined) {
    if (!Array.isArray(m.blockHashes) || m.blockHashes.length > MAX_SCORE_BLOCKS) return 'block_hashes';
    for (const h of m.blockHashes) if (typeof h !== 'number' && (typeof h !== 'string' || h.length > 66)) return 'block_hashes';
  }
  if (m.workers !== undefined && (!Array.isArray(m.workers) || m.workers.length > MAX_SCORE_WORKERS || !m.workers.every((w) => typeof w === 'string' && w.length <= MAX_STR))) return 'workers';
  if (m.mediumWeights !== undefined) {
    const w = m.mediumWeights;
    if (typeof w !== 'object' || w === null || Array.isArray(w) || Object.keys(w).length > 64) return 'medium_weights';
    for (const v of Object.values(w)) if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return 'medium_weights';
  }
  for (const k of ['loraName', 'cacheSalt'] as const) if (m[k] !== undefined && (typeof m[k] !== 'string' || (m[k] as string).length > MAX_STR)) return k === 'loraName' ? 'lora_name' : 'cache_salt';
  return undefined;
}

/** The HTTP body (`block_hashes`, `medium_weights`, `lora_name`, `cache_salt`) in the wire's field names. */
export function scoreRequestFromHttp(b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { model: b.model, tokens: b.tokens, blockHashes: b.block_hashes ?? b.blockHashes, workers: b.workers, mediumWeights: b.medium_weights ?? b.mediumWeights, loraName: b.lora_name ?? b.loraName, cacheSalt: b.cache_salt ?? b.cacheSalt };
  for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === null) delete out[k];
  return out;
}

export function asScoreRequest(m: Record<string, unknown>): VllmScoreRequest {
  return m as unknown as VllmScoreRequest;
}
