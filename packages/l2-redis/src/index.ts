export { RedisL2Adapter } from './redis-adapter.js';
export { DEFAULT_REDIS_L2_OPTIONS, resolveRedisL2Options } from './redis-options.js';
export type { RedisChecksum, RedisL2Options, ResolvedRedisL2Options } from './redis-options.js';
export { CircuitBreaker, DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.js';
export type { BreakerState, CircuitBreakerOptions, ResolvedCircuitBreakerOptions } from './circuit-breaker.js';
export { redisKeyOf } from './redis-key.js';
export { VALUE_HEADER_BYTES } from './value-header.js';
