/**
 * Decides how much to evict after a write: nothing while usage stays at or below
 * `triggerWatermark × capacity`; once it passes, enough to bring usage `evictionRatio × capacity`
 * below the watermark. A comparison per write batch, no timer: unlike LMCache's 1 Hz loop, a burst
 * of writes cannot outrun it.
 *
 * It follows what eviction can actually free (the unlocked objects): when locked objects keep
 * usage over the watermark whatever is evicted, it evicts nothing (a write that needs room evicts
 * on demand, just what it needs); when the extra `evictionRatio` margin is out of reach, it evicts
 * only what gets usage back under the watermark. Locked bytes never make it empty the evictable
 * set write after write while memory stays free.
 */
export class WatermarkEvictor {
  readonly triggerBytes: number;
  readonly ratioBytes: number;

  constructor(capacityBytes: number, triggerWatermark: number, evictionRatio: number) {
    this.triggerBytes = Math.floor(capacityBytes * triggerWatermark);
    this.ratioBytes = Math.floor(capacityBytes * evictionRatio);
  }

  /** Bytes to free given the current usage and what eviction could free; 0 when below the watermark. */
  bytesToFree(usedBytes: number, evictableBytes = Number.POSITIVE_INFINITY): number {
    if (usedBytes <= this.triggerBytes) return 0;
    const backUnder = usedBytes - this.triggerBytes;
    if (backUnder > evictableBytes) return 0;
    const withMargin = backUnder + this.ratioBytes;
    return withMargin <= evictableBytes ? withMargin : backUnder;
  }
}
