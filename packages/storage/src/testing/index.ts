export { registerL2AdapterSuite } from './l2-adapter-suite.js';
export type { L2AdapterSuiteOptions } from './l2-adapter-suite.js';
export { FaultyL2Adapter } from './faulty-l2-adapter.js';
export type { FaultyL2AdapterOptions, InjectedFaults, CorruptibleL2Adapter } from './faulty-l2-adapter.js';
export { FaultPlan } from './fault-plan.js';
export { SeededRandom, randomSeed } from './seeded-random.js';
