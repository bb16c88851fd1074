import { expect } from 'chai';
import { collectScenarios } from '../src/collect-scenarios.js';
import { SCENARIOS } from '../src/scenarios/index.js';

describe('scenario registry', () => {
  it('lists scenarios with unique dotted names and descriptions', () => {
    expect(SCENARIOS.length).to.be.greaterThan(0);
    const names = SCENARIOS.map((s) => s.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const s of SCENARIOS) {
      expect(s.name).to.match(/^[a-z0-9][a-z0-9.-]*$/);
      expect(s.description).to.be.a('string').and.not.empty;
    }
  });

  it('collects scenarios from any export, arrays included, and rejects duplicates', () => {
    const a = { name: 'x.a', description: 'a', run: async () => [] };
    const b = { name: 'x.b', description: 'b', run: async () => [] };
    expect(collectScenarios([{ a, other: 42 }, { list: [b] }]).map((s) => s.name)).to.deep.equal(['x.a', 'x.b']);
    expect(() => collectScenarios([{ a }, { again: a }])).to.throw(/two benchmark scenarios/);
  });
});
