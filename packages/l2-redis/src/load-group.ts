import { debugLogger } from '@tierkv/core';
import type { Xxh3Hasher } from '@tierkv/storage';
import type { RedisRoundTrips } from './redis-round-trip.js';
import { decodeValueInto, type CorruptReason } from './value-header.js';

const log = debugLogger('tierkv:l2-redis');

/** Per key of a load round trip: copied (`ok`), no such key, rejected (why), or the GET's error. */
export type LoadOutcome = 'ok' | 'absent' | CorruptReason | Error;

/**
 * GETs `rkeys` in one round trip. Each value is verified (see value-header.ts) and copied into its
 * target as its reply arrives (a callback per GET, run by ioredis before the Pipeline settles), so
 * checking overlaps with the rest of the transfer; a rejected value never touches its target. One
 * Pipeline, not direct GETs: its commands leave in one socket write.
 */
export async function loadGroup(
  trips: RedisRoundTrips,
  hasher: Xxh3Hasher,
  rkeys: readonly string[],
  keyCrcs: readonly number[],
  targets: readonly Uint8Array[],
  layoutCrc: number | undefined,
): Promise<LoadOutcome[]> {
  const verified: (CorruptReason | 'ok' | 'absent' | undefined)[] = new Array(rkeys.length);
  let answered = false;
  const replies = await trips.run('GET', rkeys.length, (c, j) =>
    c.getBuffer(rkeys[j]!, (err, value) => {
      // After a deadline the caller owns its memory again: a late reply writes nothing.
      if (err || answered) return;
      try {
        verified[j] = Buffer.isBuffer(value) ? (decodeValueInto(value, keyCrcs[j]!, targets[j]!, hasher, layoutCrc) ?? 'ok') : 'absent';
      } catch (e) {
        log('load %s: verification threw %s', rkeys[j], String(e));
      }
    }),
  );
  answered = true;
  // A reply without a verdict (verification threw) is neither data nor evidence of damage: absent.
  return replies.map(([err], j) => err ?? verified[j] ?? 'absent');
}
