import { expect } from 'chai';
import fc from 'fast-check';
import { NO_BLOCK, TlsfAllocator, type BlockId } from '../../src/l1/allocator.js';

const RUNS = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);

describe('TlsfAllocator', () => {
  it('hands out aligned blocks and accounts for them', () => {
    const a = new TlsfAllocator(64 * 1024, 256, 64 * 1024);
    const b1 = a.allocate(1);
    const b2 = a.allocate(1000);
    expect(a.sizeOf(b1 as BlockId)).to.equal(256);
    expect(a.sizeOf(b2 as BlockId)).to.equal(1024);
    expect(a.offsetOf(b1 as BlockId) % 256).to.equal(0);
    expect(a.offsetOf(b2 as BlockId) % 256).to.equal(0);
    expect(a.usedBytes).to.equal(1280);
    expect(a.freeBytes).to.equal(64 * 1024 - 1280);
    expect(a.check()).to.deep.equal([]);
  });

  it('fills the whole arena exactly and coalesces back into one block', () => {
    const a = new TlsfAllocator(16 * 1024, 1024, 16 * 1024);
    const blocks: BlockId[] = [];
    for (let i = 0; i < 16; i++) {
      const b = a.allocate(1024);
      expect(b).to.not.equal(NO_BLOCK);
      blocks.push(b as BlockId);
    }
    expect(a.allocate(1)).to.equal(NO_BLOCK);
    // Free in an interleaved order: every other block, then the rest.
    for (let i = 0; i < 16; i += 2) a.free(blocks[i]!);
    expect(a.allocate(2048)).to.equal(NO_BLOCK);
    expect(a.check()).to.deep.equal([]);
    for (let i = 1; i < 16; i += 2) a.free(blocks[i]!);
    expect(a.check()).to.deep.equal([]);
    const whole = a.allocate(16 * 1024);
    expect(whole).to.not.equal(NO_BLOCK);
    expect(a.offsetOf(whole as BlockId)).to.equal(0);
  });

  it('keeps blocks inside one segment', () => {
    const a = new TlsfAllocator(10 * 1024, 256, 4 * 1024);
    expect(a.allocate(5 * 1024)).to.equal(NO_BLOCK);
    const blocks = [a.allocate(3 * 1024), a.allocate(3 * 1024), a.allocate(2 * 1024)];
    expect(blocks).to.not.include(NO_BLOCK);
    for (const b of blocks) {
      const off = a.offsetOf(b as BlockId);
      expect(Math.floor(off / 4096)).to.equal(Math.floor((off + a.sizeOf(b as BlockId) - 1) / 4096));
    }
    expect(a.check()).to.deep.equal([]);
  });

  it('handles large arenas (sizes beyond 2^32 units arithmetic)', () => {
    const a = new TlsfAllocator(2 ** 40, 1, 2 ** 31);
    const b = a.allocate(2 ** 31 - 5);
    expect(b).to.not.equal(NO_BLOCK);
    expect(a.sizeOf(b as BlockId)).to.equal(2 ** 31 - 5);
    const c = a.allocate(12345);
    a.free(b as BlockId);
    a.free(c as BlockId);
    expect(a.usedBytes).to.equal(0);
    expect(a.check()).to.deep.equal([]);
  });

  it('reuses an exact-size hole even when the size is not a class boundary', () => {
    const size = 17 * 256; // 17 units: good-fit alone would look one class higher
    const a = new TlsfAllocator(size * 20, 256, size * 20);
    const blocks = Array.from({ length: 20 }, () => a.allocate(size) as BlockId);
    expect(blocks).to.not.include(NO_BLOCK);
    a.free(blocks[7]!);
    a.free(blocks[13]!);
    expect(a.allocate(size)).to.not.equal(NO_BLOCK);
    expect(a.allocate(size)).to.not.equal(NO_BLOCK);
    expect(a.allocate(size)).to.equal(NO_BLOCK);
    expect(a.check()).to.deep.equal([]);
  });

  it('rejects freeing a block twice', () => {
    const a = new TlsfAllocator(4096, 256, 4096);
    const b = a.allocate(256) as BlockId;
    a.free(b);
    expect(() => a.free(b)).to.throw(/not allocated/);
  });

  it('property: blocks never overlap and the accounting holds after any alloc/free sequence', () => {
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ alloc: fc.integer({ min: 1, max: 9000 }) }) },
      { weight: 2, arbitrary: fc.record({ free: fc.nat() }) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(1, 64, 256, 4096),
        fc.integer({ min: 1, max: 4 }),
        fc.array(op, { maxLength: 200 }),
        (align, segments, ops) => {
          const segmentBytes = Math.ceil(16384 / align) * align;
          const total = segmentBytes * segments - (segments > 1 ? align : 0);
          const a = new TlsfAllocator(total, align, segmentBytes);
          const live: { id: BlockId; off: number; size: number; want: number }[] = [];
          for (const o of ops) {
            if ('alloc' in o) {
              const id = a.allocate(o.alloc);
              if (id === NO_BLOCK) {
                const need = a.roundUp(o.alloc);
                const emptySegmentFits = Array.from({ length: segments }, (_, seg) => seg).some(
                  (seg) => !live.some((b) => Math.floor(b.off / segmentBytes) === seg) && Math.min(segmentBytes, total - seg * segmentBytes) >= need,
                );
                expect(emptySegmentFits, 'an empty segment must satisfy any request that fits in it').to.equal(false);
                continue;
              }
              const off = a.offsetOf(id);
              const size = a.sizeOf(id);
              expect(size).to.be.at.least(o.alloc);
              expect(off % align).to.equal(0);
              expect(Math.floor(off / segmentBytes)).to.equal(Math.floor((off + size - 1) / segmentBytes));
              for (const b of live) expect(off + size <= b.off || b.off + b.size <= off, 'overlap').to.equal(true);
              live.push({ id, off, size, want: o.alloc });
            } else if (live.length > 0) {
              const [b] = live.splice(o.free % live.length, 1);
              a.free(b!.id);
            }
            expect(a.usedBytes).to.equal(live.reduce((s, b) => s + b.size, 0));
          }
          expect(a.check()).to.deep.equal([]);
          for (const b of live) a.free(b.id);
          expect(a.usedBytes).to.equal(0);
          expect(a.check()).to.deep.equal([]);
          // Fully coalesced: each segment can be allocated whole again.
          for (let s = 0; s < segments; s++) expect(a.allocate(Math.min(segmentBytes, total - s * segmentBytes))).to.not.equal(NO_BLOCK);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('property: an empty arena satisfies any request up to a segment (good fit finds room)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 50 }), (sizes) => {
        const a = new TlsfAllocator(1 << 20, 256, 1 << 20);
        let used = 0;
        for (const s of sizes) {
          const need = a.roundUp(s);
          const id = a.allocate(s);
          // With no frees the free space is one contiguous tail: success iff it is large enough.
          expect(id !== NO_BLOCK).to.equal(used + need <= 1 << 20);
          if (id !== NO_BLOCK) used += need;
        }
        expect(a.check()).to.deep.equal([]);
      }),
      { numRuns: RUNS },
    );
  });
});
