import type { FsOps } from './fs-ops.js';

/**
 * The byte budget an FsL2Adapter can actually use. It starts at the configured budget; on ENOSPC
 * it drops to the bytes the tier holds at that moment (the disk demonstrably holds those, and the
 * write that failed did not fit), so eviction makes room as for the configured budget instead of
 * every later write failing while usage reads far below the budget. While lowered, at most every
 * `intervalMs` a store re-reads the free space and raises it to held + free, up to the configured
 * budget; where free space cannot be read the limit is lifted and the next ENOSPC lowers it again.
 */
export class SpaceBudget {
  readonly configured: number;
  readonly #dir: string;
  readonly #ops: FsOps;
  readonly #now: () => number;
  readonly #intervalMs: number;
  #limit: number | undefined;
  #checkedAt = 0;
  #checking: Promise<void> | undefined;

  constructor(configured: number, dir: string, ops: FsOps, now: () => number, intervalMs: number) {
    this.configured = configured;
    this.#dir = dir;
    this.#ops = ops;
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /** The budget in effect (what usage() and tierkv.l2.capacity report). */
  get capacity(): number {
    return this.#limit === undefined ? this.configured : Math.min(this.configured, this.#limit);
  }

  /** True while ENOSPC keeps the budget below the configured one. */
  get lowered(): boolean {
    return this.capacity < this.configured;
  }

  /** A write failed with ENOSPC while the tier held `heldBytes`: the budget becomes that. */
  noSpace(heldBytes: number): void {
    this.#limit = Math.max(0, heldBytes);
    this.#checkedAt = this.#now();
  }

  /**
   * While lowered and at most once per interval: free space decides the new limit. Concurrent
   * callers share one check. Never throws.
   */
  async recheck(heldBytes: () => number): Promise<void> {
    if (!this.lowered || this.#now() - this.#checkedAt < this.#intervalMs) return;
    this.#checking ??= (async () => {
      this.#checkedAt = this.#now();
      try {
        const limit = heldBytes() + (await this.#ops.freeBytes(this.#dir));
        this.#limit = limit >= this.configured ? undefined : limit;
      } catch {
        this.#limit = undefined; // cannot tell: try the configured budget, ENOSPC lowers it again
      }
    })().finally(() => (this.#checking = undefined));
    await this.#checking;
  }
}
