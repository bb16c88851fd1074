import type { ChunkSet } from '../pool/chunk-set.js';
import type { KvPool } from '../pool/kv-pool.js';
import { hashHalves } from './vllm-hash.js';

/**
 * Default weight of a block by the medium holding it: a GPU hit is worth the most; CPU and disk hits
 * still save prefill but cost a load. A medium missing from the weights counts OTHER_MEDIUM_WEIGHT.
 */
export const DEFAULT_MEDIUM_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({ gpu: 1.0, cpu: 0.8, disk: 0.5 });
export const OTHER_MEDIUM_WEIGHT = 0.5;

export interface VllmScoreTarget {
  readonly name: string;
  readonly instanceId: string;
  readonly workerId: number;
  readonly scopeId: number;
  readonly blockSize: number;
}

export interface VllmWorkerScore {
  readonly worker: string;
  readonly instanceId: string;
  readonly workerId: number;
  /** Longest prefix held, a block counting if any medium holds it. */
  readonly blocks: number;
  readonly tokens: number;
  /** Longest prefix held per medium (media holding block 0 only). */
  readonly media: Readonly<Record<string, { readonly blocks: number; readonly tokens: number }>>;
  /** Σ over that prefix of the largest weight among the media holding each block (llm-d's longest-prefix scorer with medium weights). */
  readonly score: number;
}

/**
 * Scores one worker for a request's block hashes: like llm-d's `GetPodScores`, only the contiguous
 * prefix from block 0 counts (a block after a miss cannot be reused by vLLM's prefix cache).
 */
export function scoreWorker(pool: KvPool, t: VllmScoreTarget, hashes: readonly bigint[], weights: Readonly<Record<string, number>>): VllmWorkerScore {
  const sets: [string, ChunkSet, number][] = [];
  for (const [medium, byScope] of pool.worker(t.instanceId, t.workerId)?.locations() ?? []) {
    const set = byScope.get(t.scopeId);
    if (set && set.size > 0) sets.push([medium, set, weights[medium] ?? OTHER_MEDIUM_WEIGHT]);
  }
  const media: Record<string, { blocks: number; tokens: number }> = {};
  const open = new Set(sets.map((s) => s[0])); // media whose prefix is still unbroken
  let blocks = 0;
  let score = 0;
  for (let i = 0; i < hashes.length; i++) {
    const [hi, lo] = hashHalves(hashes[i]!);
    let best = -1;
    for (const [medium, set, w] of sets) {
      if (!set.has(hi, lo)) {
        if (open.delete(medium) && i > 0) media[medium] = { blocks: i, tokens: i * t.blockSize };
        continue;
      }
      if (w > best) best = w;
    }
    if (best < 0) break;
    blocks++;
    score += best;
  }
  for (const medium of open) media[medium] = { blocks, tokens: blocks * t.blockSize };
  return { worker: t.name, instanceId: t.instanceId, workerId: t.workerId, blocks, tokens: blocks * t.blockSize, media, score: round(score) };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
