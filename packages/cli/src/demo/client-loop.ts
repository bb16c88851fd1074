import type { MemoryLayout, ObjectKey } from '@tierkv/core';
import type { TierkvClient } from '@tierkv/server';
import { withBusyRetry } from './busy-retry.js';
import { makeChunk, verifyChunk } from './chunk-data.js';
import type { DemoStats } from './demo-stats.js';
import type { PrefixRouter } from './prefix-router.js';
import type { InferenceWorkload } from './workload.js';

export interface ClientLoopOptions {
  readonly client: TierkvClient;
  readonly workload: InferenceWorkload;
  readonly layout: MemoryLayout;
  readonly stats: DemoStats;
  /** performance.now() at which to stop starting requests. */
  readonly deadline: number;
  readonly signal: AbortSignal;
  /** Asks the controller where each request should go before it is sent (absent: --no-controller). */
  readonly router?: PrefixRouter;
}

/**
 * One simulated inference worker: for each request, ask the controller which worker holds the
 * longest prefix (as a router would), look the prompt's chunks up there (prefetching the cached
 * prefix from L2 into L1), retrieve the ready prefix and check every byte, then store the chunks
 * the cache did not have, as the model would after computing them. A BUSY reply is retried with
 * backoff; a request fails only when its retries run out.
 */
export async function runClientLoop(o: ClientLoopOptions): Promise<void> {
  const { client, workload, stats } = o;
  const scratch = Buffer.allocUnsafe(o.layout.byteSize);
  const retry = <T>(op: () => Promise<T>) => withBusyRetry(op, { signal: o.signal, onRetry: () => stats.busyRetries++ });
  while (performance.now() < o.deadline && !o.signal.aborted) {
    const request = workload.next();
    const keys = request.keys;
    const started = performance.now();
    if (o.router) await route(o.router, keys, stats);
    try {
      const found = await retry(() => client.lookup(keys, { wait: true }));
      let ready = found.ready ?? 0;
      if (found.prefetchId !== undefined && found.ready === undefined) {
        ready = (await retry(() => client.prefetchStatus(found.prefetchId!, { wait: true }))) ?? 0;
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

/** The router's step: one controller lookup per request. A failed lookup is counted, and the request goes on (a router falls back to any worker). */
async function route(router: PrefixRouter, keys: readonly ObjectKey[], stats: DemoStats): Promise<void> {
  const started = performance.now();
  try {
    const { holder } = await router.route(keys);
    stats.routeLookups++;
    stats.routeLookupMs += performance.now() - started;
    stats.routePredictedChunks += holder?.chunks ?? 0;
  } catch {
    stats.routeLookupErrors++;
  }
}
