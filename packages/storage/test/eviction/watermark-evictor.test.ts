import { expect } from 'chai';
import { WatermarkEvictor } from '../../src/eviction/watermark-evictor.js';

describe('WatermarkEvictor', () => {
  it('frees nothing at or below the watermark', () => {
    const w = new WatermarkEvictor(1000, 0.8, 0.1);
    expect(w.bytesToFree(0)).to.equal(0);
    expect(w.bytesToFree(800)).to.equal(0);
  });

  it('past the watermark, frees down to evictionRatio below it', () => {
    const w = new WatermarkEvictor(1000, 0.8, 0.1);
    expect(w.bytesToFree(801)).to.equal(101);
    expect(w.bytesToFree(1000)).to.equal(300);
  });

  it('with evictionRatio 0, just gets back under the watermark', () => {
    expect(new WatermarkEvictor(1000, 0.5, 0).bytesToFree(700)).to.equal(200);
  });
});
