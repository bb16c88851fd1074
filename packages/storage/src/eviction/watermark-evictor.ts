/**
 * Decides how much to evict after a write: nothing while usage stays at or below
 * `triggerWatermark × capacity`; once it passes, enough to bring usage `evictionRatio × capacity`
 * below the watermark (at least back under it). A comparison per write batch, no timer: unlike
 * LMCache's 1 Hz loop, a burst of writes cannot outrun it.
 */
export class WatermarkEvictor {
  readonly triggerBytes: number;
  readonly ratioBytes: number;

  constructor(capacityBytes: number, triggerWatermark: number, evictionRatio: number) {
    this.triggerBytes = Math.floor(capacityBytes * triggerWatermark);
    this.ratioBytes = Math.floor(capacityBytes * evictionRatio);
  }

  /** Bytes to free given the current usage; 0 when below the watermark. */
  bytesToFree(usedBytes: number): number {
    if (usedBytes <= this.triggerBytes) return 0;
    return usedBytes - this.triggerBytes + this.ratioBytes;
  }
}
