import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { TierkvClient } from '@tierkv/server';
import { withBusyRetry } from './busy-retry.js';
import { makeChunk, verifyChunk } from './chunk-data.js';
import type { DemoStats } from './demo-stats.js';
import type { PrefixRouter } from './prefix-router.js';
import type { ScoreRouter, ScoredRoute } from './score-router.js';
import type { InferenceWorkload } from './workload.js';

export interface ClientLoopOptions {
  /** One client per demo server, in server order. */
  readonly clients: readonly TierkvClient[];
  /** The server a request goes to when routing names none (no holder, no score). */
  readonly home: number;
  readonly workload: InferenceWorkload;
  readonly layout: MemoryLayout;
  readonly stats: DemoStats;
  /** performance.now() at which to stop starting requests. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  /** Asks the controller where each request should go before it is sent (absent: --no-controller). */
  readonly router?: PrefixRouter;
  /** `--vllm`: scores the servers by their published vLLM KV events; the best-scored one gets the request. */
  readonly scorer?: ScoreRouter;
  /** The server index of a lookup holder's instance id, or of a scored worker's publisher name. */
  readonly serverOf?: (instanceIdOrWorker: string) => number | undefined;
}

/**
 * One simulated inference worker: for each request, ask the controller which worker holds the
 * longest prefix (as a router would), look the prompt's chunks up there (prefetching the cached
 * prefix from L2 into L1), retrieve the ready prefix and check every byte, then store the chunks
 * the cache did not have, as the model would after computing them. A BUSY reply is retried with
 * backoff; a request fails only when its retries run out.
 */
export async function runClientLoop(o: ClientLoopOptions): Promise<void> {
  const { workload, stats } = o;
  const scratch = Buffer.allocUnsafe(o.layout.byteSize);
  const retry = <T>(op: () => Promise<T>) => withBusyRetry(op, { signal: o.signal, onRetry: () => stats.busyRetries++ });
  while (performance.now() < o.deadline && !o.signal.aborted) {
    const request = workload.next();
    const keys = request.keys;
    const started = performance.now();
    let server = o.home;
    const held = o.router ? await route(o.router, keys, stats) : undefined;
    if (held !== undefined) server = o.serverOf?.(held) ?? server;
    const scored = o.scorer ? await score(o.scorer, keys, stats) : undefined;
    const best = scored ? o.serverOf?.(scored.worker) : undefined;
    if (best !== undefined) server = best;
    const client = o.clients[server]!;
    if (o.clients.length > 1) stats.serverRequests[server] = (stats.serverRequests[server] ?? 0) + 1;
    try {
      const found = await retry(() => client.lookup(keys, { wait: true }));
      let ready = found.ready ?? 0;
      if (found.prefetchId !== undefined && found.ready === undefined) {
        ready = (await retry(() => client.prefetchStatus(found.prefetchId!, { wait: true }))) ?? 0;
      }
      if (scored && best !== undefined) {
        stats.scoredRoutes++;
        stats.scorePredictedChunks += scored.blocks;
        stats.scoreHitChunks += Math.min(ready, scored.blocks);
      }
      // Only the contiguous prefix is usable; each chunk counts where it was found.
      for (let i = 0; i < keys.length; i++) {
        if (i >= ready) stats.misses++;
        else if (found.tiers[i] === 'l2') stats.l2Hits++;
        else stats.l1Hits++;
      }
      let have = 0;
      if (ready > 0) {
        const { chunks } = await retry(() => client.retrieve(keys.slice(0, ready), found.prefetchId !== undefined ? { prefetchId: found.prefetchId } : {}));
        have = chunks.length;
        for (let i = 0; i < chunks.length; i++) {
          stats.bytesRetrieved += chunks[i]!.byteLength;
          if (!verifyChunk(chunks[i]!, keys[i]!, scratch)) stats.verifyFailures++;
        }
      } else if (found.prefetchId !== undefined) {
        await retry(() => client.release(found.prefetchId!));
      }
      if (have < keys.length) {
        const fresh = keys.slice(have);
        const chunks = fresh.map((key) => makeChunk(key, o.layout.byteSize));
        const { stored } = await retry(() => client.store(fresh, chunks));
        for (let i = 0; i < stored.length; i++) {
          if (stored[i]) {
            stats.storedChunks++;
            stats.bytesStored += chunks[i]!.byteLength;
          }
        }
      }
      stats.requests++;
      stats.recordLatency(performance.now() - started);
    } catch (err) {
      if (o.signal.aborted) break;
      stats.recordError(err);
      // Back off a little so a broken server does not turn into a busy loop of errors.
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The router's step: one controller lookup per request; resolves with the longest holder's
 * instance id. A failed lookup is counted, and the request goes on (a router falls back to any worker).
 */
async function route(router: PrefixRouter, keys: readonly ObjectKey[], stats: DemoStats): Promise<string | undefined> {
  const started = performance.now();
  try {
    const { holder } = await router.route(keys);
    stats.routeLookups++;
    stats.routeLookupMs += performance.now() - started;
    stats.routePredictedChunks += holder?.chunks ?? 0;
    return holder?.instanceId;
  } catch {
    stats.routeLookupErrors++;
    return undefined;
  }
}

/** `--vllm`'s step: one score request per request; resolves with the best-scored worker (none: no worker holds block 0, or the score failed). */
async function score(scorer: ScoreRouter, keys: readonly ObjectKey[], stats: DemoStats): Promise<ScoredRoute | undefined> {
  const started = performance.now();
  try {
    const best = await scorer.route(keys);
    stats.scoreRequests++;
    stats.scoreMs += performance.now() - started;
    return best;
  } catch {
    stats.scoreErrors++;
    return undefined;
  }
}
