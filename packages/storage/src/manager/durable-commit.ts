import { ConfigError, InvalidArgumentError } from '@tierkv/core';

/**
 * What a durable commit reports per key, once the key's write-through settled:
 * - `durable`: every L2 tier stored it (with `fsync` where the fs adapter is configured with it);
 * - `not_stored`: the commit itself did not publish the key (not reserved, or its reservation expired);
 * - `l2_failed`: an L2 tier failed to store it (or its copy was torn and deleted): it lives in L1 only;
 * - `l2_skipped`: no write-through was made (`storeBacklogPolicy: 'skip_l2'` over its bound, or a
 *   temporary object): it lives in L1 only.
 * Only `durable` means the object survives the process.
 */
export type DurableOutcome = 'durable' | 'not_stored' | 'l2_failed' | 'l2_skipped';

/** Options of `WriteReservation.commit` and `StorageManager.finishWrite`. */
export interface CommitOptions {
  /** Resolve only once the write-through to every L2 tier settled, with a DurableOutcome per key. @default false */
  durable?: boolean;
}

/** Reads `options.durable`; refuses a malformed options object. */
export function isDurable(options: CommitOptions | undefined): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'expected an object { durable? }');
  const durable = options.durable ?? false;
  if (typeof durable !== 'boolean') throw new InvalidArgumentError('options.durable', `expected a boolean, got ${JSON.stringify(durable)}`);
  return durable;
}

/** A durable commit without any L2 tier could only be acknowledged falsely: refuse it. */
export function refuseDurableWithoutL2(l2Tiers: number): void {
  if (l2Tiers > 0) return;
  throw new ConfigError(
    'storage.l2',
    'a durable commit ({ durable: true }) waits for the write-through to L2, but this StorageManager has no L2 tier; configure storage.l2 (e.g. an FsL2Adapter) or commit without durable',
  );
}
