import { expect } from 'chai';
import { quantile, spreadOf } from '../src/stats.js';

describe('stats', () => {
  it('summarizes values by median, quartiles and extremes', () => {
    const s = spreadOf([5, 1, 4, 2, 3]);
    expect(s).to.deep.equal({ median: 3, min: 1, max: 5, q1: 2, q3: 4, n: 5 });
  });

  it('interpolates between the two middle values of an even count', () => {
    expect(spreadOf([1, 2, 3, 4]).median).to.equal(2.5);
    expect(quantile([10, 20], 0.25)).to.equal(12.5);
  });

  it('gives NaN for no values', () => {
    expect(spreadOf([]).median).to.be.NaN;
  });
});
