import { expect } from 'chai';
import fc from 'fast-check';
import { InvalidArgumentError } from '@tierkv/core';
import { formatSize, parseSize } from '../../src/config/sizes.js';

const runs = Number(process.env.TIERKV_PROPERTY_RUNS ?? 100);

describe('parseSize', () => {
  const cases: [string | number, number][] = [
    ['0', 0],
    ['65536', 65536],
    ['512B', 512],
    ['1KiB', 1024],
    ['1kb', 1000],
    ['4GiB', 4 * 1024 ** 3],
    ['4 GiB', 4 * 1024 ** 3],
    ['256MiB', 256 * 1024 ** 2],
    ['256mib', 256 * 1024 ** 2],
    ['1.5GB', 1.5e9],
    ['2MB', 2_000_000],
    ['1TiB', 1024 ** 4],
    ['3K', 3072],
    ['.5MiB', 512 * 1024],
    [1048576, 1048576],
  ];
  for (const [input, bytes] of cases) {
    it(`${JSON.stringify(input)} is ${bytes} bytes`, () => {
      expect(parseSize(input)).to.equal(bytes);
    });
  }

  for (const bad of ['', 'GiB', '4XB', '-1MiB', '4 G i B', '1e3', 'four', '4GiBs']) {
    it(`rejects ${JSON.stringify(bad)} naming the units`, () => {
      expect(() => parseSize(bad, 'l1.size')).to.throw(InvalidArgumentError, /l1\.size: invalid size .*KiB, MiB, GiB/);
    });
  }

  it('rejects negative, fractional and unsafe numbers', () => {
    expect(() => parseSize(-1)).to.throw(InvalidArgumentError);
    expect(() => parseSize(1.5)).to.throw(InvalidArgumentError);
    expect(() => parseSize(2 ** 60)).to.throw(InvalidArgumentError);
    expect(() => parseSize('99999999TiB')).to.throw(InvalidArgumentError, /too large/);
  });

  it('round-trips whole binary sizes through formatSize', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1023 }), fc.constantFrom('B', 'KiB', 'MiB', 'GiB', 'TiB'), (n, unit) => {
        const text = `${n}${unit}`;
        expect(parseSize(formatSize(parseSize(text)).replace(' ', ''))).to.equal(parseSize(text));
      }),
      { numRuns: runs },
    );
  });
});

describe('formatSize', () => {
  it('picks the largest binary unit and trims zeros', () => {
    expect(formatSize(0)).to.equal('0 B');
    expect(formatSize(1023)).to.equal('1023 B');
    expect(formatSize(1024)).to.equal('1 KiB');
    expect(formatSize(256 * 1024 ** 2)).to.equal('256 MiB');
    expect(formatSize(1.5 * 1024 ** 3)).to.equal('1.5 GiB');
  });
});
