import { expect } from 'chai';
import fc from 'fast-check';
import { XXH3_IMPLEMENTATION_ENV, nativeXxh3, selectXxh3, wasmXxh3 } from '../../src/l2/checksum/xxh3.js';
import { ConfigError } from '@tierkv/core';

const runs = Number(process.env['TIERKV_PROPERTY_RUNS'] ?? 100);
const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

describe('XXH3-64 payload hash: native addon and WebAssembly fallback', () => {
  const saved = process.env[XXH3_IMPLEMENTATION_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[XXH3_IMPLEMENTATION_ENV];
    else process.env[XXH3_IMPLEMENTATION_ENV] = saved;
  });

  it('both give the reference values (XXH3-64, seed 0, canonical big-endian)', async () => {
    const wasm = await wasmXxh3();
    const native = nativeXxh3();
    for (const h of native ? [native, wasm] : [wasm]) {
      // Published by the xxHash project (XXH3_64bits of the empty input) and computed by its CLI.
      expect(hex(h.digest(new Uint8Array(0))), h.implementation).to.equal('2d06800538d394c2');
      expect(h.digest(new Uint8Array(10)).length).to.equal(8);
    }
  });

  it('compute the same digests for every length class XXH3 distinguishes and for large inputs (property)', async function () {
    const native = nativeXxh3();
    if (!native) this.skip(); // no prebuilt binary here: there is nothing to compare the fallback with
    const wasm = await wasmXxh3();
    // 0-16, 17-128, 129-240 and > 240 bytes take different code paths; stripes and blocks above.
    for (const n of [0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024, 1025, 64 * 1024 + 7, 256 * 1024, 1024 * 1024 + 3]) {
      const data = new Uint8Array(n).map((_, i) => (i * 131 + 17) & 255);
      expect(hex(wasm.digest(data)), `${n} bytes`).to.equal(hex(native.digest(data)));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(64), (data, offset) => {
        // Views at odd offsets into a larger buffer, as L1 objects are.
        const backing = new Uint8Array(data.length + offset);
        backing.set(data, offset);
        const view = backing.subarray(offset);
        expect(hex(wasm.digest(view))).to.equal(hex(native.digest(view)));
      }),
      { numRuns: runs },
    );
  });

  it(`${XXH3_IMPLEMENTATION_ENV} forces the fallback, and refuses values it does not know`, async () => {
    process.env[XXH3_IMPLEMENTATION_ENV] = 'wasm';
    expect((await selectXxh3()).implementation).to.equal('wasm');
    process.env[XXH3_IMPLEMENTATION_ENV] = 'fastest';
    expect(() => selectXxh3()).to.throw(ConfigError, /TIERKV_XXH3.*'native', 'wasm'/);
    delete process.env[XXH3_IMPLEMENTATION_ENV];
    expect((await selectXxh3()).implementation).to.equal(nativeXxh3() ? 'native' : 'wasm');
  });
});
