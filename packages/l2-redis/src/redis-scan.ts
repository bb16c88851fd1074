import { UnavailableError } from '@tierkv/core';
import type { Cluster, Redis } from 'ioredis';
import type { RedisMetrics } from './redis-metrics.js';
import { errorTypeOf, withDeadline } from './redis-round-trip.js';

/** The nodes that hold keys: every master of a cluster, or the single node. */
export function masterNodes(client: Redis | Cluster, isCluster: boolean): Redis[] {
  return isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}

/**
 * The keys under `keyPrefix` on `node`, one `SCAN MATCH prefix* COUNT 1000` page at a time, each
 * page under the deadline and recorded as one SCAN operation. A failed page throws
 * UnavailableError (a clear that did not finish must not look like one that did).
 */
export async function* scanPrefix(node: Redis, keyPrefix: string, operationTimeoutMs: number, metrics: RedisMetrics): AsyncGenerator<string[]> {
  const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const started = performance.now();
    let page: string[];
    try {
      [cursor, page] = await withDeadline(node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000), operationTimeoutMs, 'Redis SCAN');
      metrics.recordOperation('SCAN', 1, (performance.now() - started) / 1000);
    } catch (err) {
      metrics.recordOperation('SCAN', 1, (performance.now() - started) / 1000, errorTypeOf(err as Error));
      throw new UnavailableError(`Redis L2 clear failed: ${(err as Error).message}`, { cause: err });
    }
    yield page;
  } while (cursor !== '0');
}
