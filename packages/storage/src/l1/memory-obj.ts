import type { MemoryLayout, ObjectKey } from '@tierkv/core';

/**
 * One chunk in L1: `data` is a view into the arena (no copy). Writers fill it between
 * reserveWrite and finishWrite; readers may read it while they hold a read lock, never after.
 */
export interface MemoryObj {
  readonly key: ObjectKey;
  readonly layout: MemoryLayout;
  readonly data: Uint8Array;
}
