import { collectScenarios } from '../collect-scenarios.js';
import type { BenchScenario } from '../scenario.js';
import * as tokenHashing from './token-hashing.js';

/**
 * Every scenario the runner knows, in run order. A scenario file exports BenchScenario values
 * under any name; add its module here.
 */
export const SCENARIOS: readonly BenchScenario[] = collectScenarios([tokenHashing]);
