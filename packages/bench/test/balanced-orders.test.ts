import { expect } from 'chai';
import { balancedOrders } from '../src/support/balanced-orders.js';

describe('balancedOrders', () => {
  for (let n = 1; n <= 7; n++) {
    it(`${n} subjects: every row is an order of all of them, and each follows each other one equally often`, () => {
      const rows = balancedOrders(n);
      const follows = new Map<string, number>();
      for (const row of rows) {
        expect([...row].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: n }, (_, i) => i));
        for (let k = 1; k < n; k++) follows.set(`${row[k - 1]}>${row[k]}`, (follows.get(`${row[k - 1]}>${row[k]}`) ?? 0) + 1);
      }
      expect(follows.size).to.equal(n * (n - 1));
      expect(new Set(follows.values()).size).to.be.at.most(1);
    });
  }
});
