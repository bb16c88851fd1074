import type { BenchScenario } from './scenario.js';

function isScenario(value: unknown): value is BenchScenario {
  const v = value as Partial<BenchScenario> | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.run === 'function';
}

/**
 * Every BenchScenario exported by the given modules (single values or arrays, any export name),
 * in module order. Two scenarios with one name are a mistake in the registry and throw.
 */
export function collectScenarios(modules: readonly Record<string, unknown>[]): BenchScenario[] {
  const out: BenchScenario[] = [];
  const seen = new Set<string>();
  for (const mod of modules) {
    for (const value of Object.values(mod)) {
      for (const candidate of Array.isArray(value) ? value : [value]) {
        if (!isScenario(candidate)) continue;
        if (seen.has(candidate.name)) throw new Error(`two benchmark scenarios are named ${candidate.name}`);
        seen.add(candidate.name);
        out.push(candidate);
      }
    }
  }
  return out;
}
