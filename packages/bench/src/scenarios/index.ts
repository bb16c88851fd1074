import { collectScenarios } from '../collect-scenarios.js';
import type { BenchScenario } from '../scenario.js';
import * as controller from './controller.js';
import * as fsL2 from './fs-l2.js';
import * as instrumentation from './instrumentation.js';
import * as l1Bandwidth from './l1-bandwidth.js';
import * as l1SmallOps from './l1-small-ops.js';
import * as redis from './redis.js';
import * as server from './server.js';
import * as tokenHashing from './token-hashing.js';
import * as tracing from './tracing.js';
import * as vllm from './vllm.js';

/**
 * Every scenario the runner knows, in run order. A scenario file exports BenchScenario values
 * under any name; add its module here.
 */
export const SCENARIOS: readonly BenchScenario[] = collectScenarios([
  tokenHashing,
  l1Bandwidth,
  l1SmallOps,
  fsL2,
  instrumentation,
  tracing,
  redis,
  server,
  controller,
  vllm,
]);
