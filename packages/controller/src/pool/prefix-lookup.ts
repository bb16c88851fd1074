import type { LookupHolder } from '../protocol/messages.js';
import type { ChunkSet } from './chunk-set.js';
import type { KvPool } from './kv-pool.js';
import type { HashRun } from './hash-run.js';

/**
 * For every worker holding chunk 0 of `run` (in scope `scopeId`), the length of the contiguous
 * prefix it holds: per location, and over all its locations together. Longest first; ties by
 * instance and worker id so the answer is deterministic.
 *
 * Each hash is mixed once per request (`HashRun`), not once per set probed, and every set walks the
 * run in one tight loop (`ChunkSet.runLength`) that stops at its first miss, so a worker without
 * chunk 0 costs one probe per location. Workers and their sets are walked as arrays, not Map
 * iterators (see `WorkerKeys.sets`).
 */
export function prefixLookup(pool: KvPool, scopeId: number | undefined, run: HashRun, chunkSize: number): LookupHolder[] {
  const n = run.length;
  if (scopeId === undefined || n === 0) return [];
  const holders: LookupHolder[] = [];
  const sets: ChunkSet[] = [];
  const workers = pool.workerList();
  for (let wi = 0; wi < workers.length; wi++) {
    const w = workers[wi]!;
    const all = w.sets();
    sets.length = 0;
    let locations: Record<string, number> | undefined;
    let best = 0;
    for (let k = 0; k < all.length; k++) {
      const { location, scopeId: sid, set } = all[k]!;
      if (sid !== scopeId || set.size === 0) continue;
      sets.push(set);
      const p = set.runLength(run.words, 0, n);
      if (p === 0) continue;
      (locations ??= {})[location] = p;
      if (p > best) best = p;
    }
    if (best === 0) continue;
    const chunks = unionPrefix(sets, run, best);
    holders.push({ instanceId: w.instanceId, workerId: w.workerId, chunks, tokens: chunks * chunkSize, locations: locations! });
  }
  holders.sort((a, b) => b.chunks - a.chunks || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : a.workerId - b.workerId));
  return holders;
}

/**
 * A chunk counts for the worker if any of its locations holds it: from the longest single-location
 * prefix on, extend by the longest run any location holds from there, until none holds the next.
 */
function unionPrefix(sets: readonly ChunkSet[], run: HashRun, best: number): number {
  const n = run.length;
  let union = best;
  if (sets.length < 2) return union;
  while (union < n) {
    let step = 0;
    for (const s of sets) {
      const r = s.runLength(run.words, union, n);
      if (r > step) step = r;
    }
    if (step === 0) break;
    union += step;
  }
  return union;
}
