import type { LookupHolder } from '../protocol/messages.js';
import type { ChunkSet } from './chunk-set.js';
import type { KvPool } from './kv-pool.js';

/** Chunk hashes of a request as parallel (hi, lo) arrays. */
export interface HashRun {
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
}

export function hashRunFromBytes(bytes: Uint8Array): HashRun {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / 8;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    hi[i] = view.getUint32(i * 8);
    lo[i] = view.getUint32(i * 8 + 4);
  }
  return { hi, lo };
}

export function hashRunFromHex(hashes: readonly string[]): HashRun {
  // One hex decode of the joined string beats 2 parseInt calls per hash by ~5x.
  return hashRunFromBytes(Buffer.from(hashes.join(''), 'hex'));
}

function prefixIn(set: ChunkSet, run: HashRun, limit: number): number {
  let i = 0;
  while (i < limit && set.has(run.hi[i]!, run.lo[i]!)) i++;
  return i;
}

/**
 * For every worker holding chunk 0 of `run` (in scope `scopeId`), the length of the contiguous
 * prefix it holds: per location, and over all its locations together. Longest first; ties by
 * instance and worker id so the answer is deterministic.
 */
export function prefixLookup(pool: KvPool, scopeId: number | undefined, run: HashRun, chunkSize: number): LookupHolder[] {
  const n = run.hi.length;
  if (scopeId === undefined || n === 0) return [];
  const holders: LookupHolder[] = [];
  const sets: ChunkSet[] = [];
  for (const w of pool.workers()) {
    sets.length = 0;
    const locations: Record<string, number> = {};
    let best = 0;
    for (const [loc, byScope] of w.locations()) {
      const set = byScope.get(scopeId);
      if (!set || set.size === 0) continue;
      sets.push(set);
      const p = prefixIn(set, run, n);
      if (p === 0) continue;
      locations[loc] = p;
      if (p > best) best = p;
    }
    if (best === 0) continue;
    // A chunk counts for the worker if any of its locations holds it.
    let union = best;
    while (union < n && sets.some((s) => s.has(run.hi[union]!, run.lo[union]!))) union++;
    holders.push({ instanceId: w.instanceId, workerId: w.workerId, chunks: union, tokens: union * chunkSize, locations });
  }
  holders.sort((a, b) => b.chunks - a.chunks || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : a.workerId - b.workerId));
  return holders;
}
