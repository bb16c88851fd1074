import type { ChunkSet } from '../pool/chunk-set.js';
import type { KvPool } from '../pool/kv-pool.js';

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
 * Scores one worker for a request's block hashes, given as their (hi, lo) halves interleaved
 * (`hashHalvesOf`, computed once per request, not per worker): like llm-d's `GetPodScores`, only the
 * contiguous prefix from block 0 counts (a block after a miss cannot be reused by vLLM's prefix cache).
 */
export function scoreWorker(pool: KvPool, t: VllmScoreTarget, halves: Uint32Array, weights: Readonly<Record<string, number>>): VllmWorkerScore {
  const names: string[] = [];
  const sets: ChunkSet[] = [];
  const ws: number[] = [];
  // The worker's sets as an array, not Map iterators: see WorkerKeys.sets.
  for (const { location: medium, scopeId, set } of pool.worker(t.instanceId, t.workerId)?.sets() ?? []) {
    if (scopeId === t.scopeId && set.size > 0) {
      names.push(medium);
      sets.push(set);
      ws.push(weights[medium] ?? OTHER_MEDIUM_WEIGHT);
    }
  }
  const media: Record<string, { blocks: number; tokens: number }> = {};
  const open = names.map(() => true); // media whose prefix is still unbroken
  const m = sets.length;
  const n = halves.length >> 1;
  let blocks = 0;
  let score = 0;
  for (let i = 0; i < n; i++) {
    const hi = halves[2 * i]!;
    const lo = halves[2 * i + 1]!;
    let best = -1;
    for (let k = 0; k < m; k++) {
      if (!sets[k]!.has(hi, lo)) {
        if (open[k]) {
          open[k] = false;
          if (i > 0) media[names[k]!] = { blocks: i, tokens: i * t.blockSize };
        }
        continue;
      }
      if (ws[k]! > best) best = ws[k]!;
    }
    if (best < 0) break;
    blocks++;
    score += best;
  }
  for (let k = 0; k < m; k++) if (open[k]) media[names[k]!] = { blocks, tokens: blocks * t.blockSize };
  return { worker: t.name, instanceId: t.instanceId, workerId: t.workerId, blocks, tokens: blocks * t.blockSize, media, score: round(score) };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
