import type { L2StoreItem, Xxh3Hasher } from '@tierkv/storage';
import { FramedSetCommand, type FramedSetMode } from './framed-set-command.js';
import type { RedisRoundTrips } from './redis-round-trip.js';
import { encodeHeader, keyChecksum, layoutChecksumOf, type PayloadChecksum } from './value-header.js';

/** What one store round trip needs of its adapter. */
export interface StoreGroupContext {
  readonly trips: RedisRoundTrips;
  readonly hasher: Xxh3Hasher;
  readonly checksum: PayloadChecksum;
  readonly ttlSeconds: number;
  /** ioredis' own `keyPrefix` of the client (applied by the command), if any. */
  readonly clientKeyPrefix: string | undefined;
  readonly isCluster: boolean;
}

/** Per item of a store round trip: the length of the value it replaced (0 when the key was new), or the SET's error. */
export type StoreOutcome = number | Error;

/**
 * Stores `items` (with their encoded keys and Redis keys) in one round trip: `STRLEN` then a framed
 * `SET` per key. The STRLEN in the same round trip tells whether the SET replaces a value and how
 * big it was, so the adapter's usage() stays exact for its own writes.
 */
export async function storeGroup(ctx: StoreGroupContext, items: readonly L2StoreItem[], encoded: readonly string[], rkeys: readonly string[]): Promise<StoreOutcome[]> {
  const { checksum, hasher } = ctx;
  // After a deadline the store settles while the socket may still hold the payload, and the caller
  // then releases (and may reuse) that memory. With a payload checksum a late write of reused
  // bytes is caught at load (a miss), so on a single node the payload goes to the socket uncopied;
  // without one, or inside a cluster's per-key pipelines, it is copied once, now.
  const mode: FramedSetMode = checksum !== 'none' && !ctx.isCluster ? 'socket' : 'copy';
  const headers = items.map((item, j) => encodeHeader(item.data, keyChecksum(encoded[j]!), checksum, hasher, layoutChecksumOf(item.layout)));
  const replies = await ctx.trips.run(
    'SET',
    items.length,
    (c, j) => c.sendCommand(new FramedSetCommand(rkeys[j]!, headers[j]!, items[j]!.data, ctx.ttlSeconds, mode, ctx.clientKeyPrefix)),
    {
      // Direct commands, not a Pipeline object: ioredis writes each SET to the socket as it is
      // issued (still pipelined on the wire) and skips the Pipeline's concatenation of every
      // payload into one more buffer, a full extra copy.
      direct: true,
      // The small STRLENs go ahead of the SETs, as one pipeline on a single node.
      before: (c, j) => c.strlen(rkeys[j]!),
    },
  );
  return items.map((_, j) => {
    const [lenErr, oldLength] = replies[2 * j]!;
    const [err] = replies[2 * j + 1]!;
    if (err) return err;
    return lenErr ? 0 : Number(oldLength);
  });
}
