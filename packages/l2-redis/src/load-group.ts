import { debugLogger } from '@tierkv/core';
import type { Xxh3Hasher } from '@tierkv/storage';
import type { DirectLoads } from './direct-loads.js';
import type { LoadOutcome, LoadReplyCheck } from './load-reply.js';
import type { Reply, RedisRoundTrips } from './redis-round-trip.js';
import { decodeValueInto, type CorruptReason } from './value-header.js';

export type { LoadOutcome } from './load-reply.js';

const log = debugLogger('tierkv:l2-redis');

/**
 * GETs `rkeys` in one round trip, each value verified (see value-header.ts) into its target as its
 * reply arrives. With `direct` (the adapter's own load connection, see direct-loads.ts) the payload
 * is read from the socket straight into the target once its header passed; otherwise through
 * ioredis (below).
 */
export async function loadGroup(
  trips: RedisRoundTrips,
  hasher: Xxh3Hasher,
  rkeys: readonly string[],
  keyCrcs: readonly number[],
  targets: readonly Uint8Array[],
  layoutCrc: number | undefined,
  direct?: DirectLoads,
): Promise<LoadOutcome[]> {
  const checks = rkeys.map((_, j): LoadReplyCheck => ({ keyCrc: keyCrcs[j]!, layoutCrc, target: targets[j]!, hasher }));
  if (!direct) return ioredisLoadGroup(trips, rkeys, checks);
  const replies = await trips.measure('GET', rkeys.length, rkeys.length, async () =>
    (await direct.load(rkeys, checks)).map((o): Reply => (o instanceof Error ? [o, null] : [null, o])),
  );
  return replies.map(([err, outcome]) => err ?? (outcome as LoadOutcome));
}

/**
 * The ioredis path: a Pipeline of getBuffer with a callback per GET (run by ioredis before the
 * Pipeline settles), so checking overlaps with the rest of the transfer; a rejected value never
 * touches its target. One Pipeline, not direct GETs: its commands leave in one socket write.
 */
async function ioredisLoadGroup(trips: RedisRoundTrips, rkeys: readonly string[], checks: readonly LoadReplyCheck[]): Promise<LoadOutcome[]> {
  const verified: (CorruptReason | 'ok' | 'absent' | undefined)[] = new Array(rkeys.length);
  let answered = false;
  const replies = await trips.run('GET', rkeys.length, (c, j) =>
    c.getBuffer(rkeys[j]!, (err, value) => {
      // After a deadline the caller owns its memory again: a late reply writes nothing.
      if (err || answered) return;
      const { keyCrc, target, hasher, layoutCrc } = checks[j]!;
      try {
        verified[j] = Buffer.isBuffer(value) ? (decodeValueInto(value, keyCrc, target, hasher, layoutCrc) ?? 'ok') : 'absent';
      } catch (e) {
        log('load %s: verification threw %s', rkeys[j], String(e));
      }
    }),
  );
  answered = true;
  // A reply without a verdict (verification threw) is neither data nor evidence of damage: absent.
  return replies.map(([err], j) => err ?? verified[j] ?? 'absent');
}
