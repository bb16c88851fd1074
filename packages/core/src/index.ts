export { TierkvError } from './errors/tierkv-error.js';
export type { TierkvErrorCode } from './errors/tierkv-error.js';
export { InvalidArgumentError } from './errors/invalid-argument-error.js';
export { ConfigError } from './errors/config-error.js';
export { ClosedError } from './errors/closed-error.js';
export { TimeoutError } from './errors/timeout-error.js';
export { ProtocolError } from './errors/protocol-error.js';
export { UnavailableError } from './errors/unavailable-error.js';

export { objectKey, encodeKey, decodeKey, keysEqual, isChunkHash, MAX_MODEL_NAME_LENGTH, MAX_CACHE_SALT_LENGTH } from './keys/object-key.js';
export type { ObjectKey, ChunkHash, EncodedKey } from './keys/object-key.js';
export { TokenHasher, DEFAULT_CHUNK_SIZE } from './hashing/token-hasher.js';
export type { TokenHasherOptions, HashOptions, KeyScope } from './hashing/token-hasher.js';
export { MemoryLayout, DTYPE_BYTES } from './layout/memory-layout.js';
export type { DType, MemoryLayoutJSON } from './layout/memory-layout.js';

export { debugLogger } from './logging/debug-logger.js';
export type { DebugLogger } from './logging/debug-logger.js';

export { METRIC_CATALOG, metricDefinition, prometheusName } from './telemetry/metric-catalog.js';
export { prometheusMetricName, prometheusUnit, namingTypeOf } from './telemetry/prometheus-name.js';
export type { PrometheusNamingType } from './telemetry/prometheus-name.js';
export { LATENCY_BOUNDARIES_S, BATCH_SIZE_BOUNDARIES } from './telemetry/metric-definition.js';
export type { MetricDefinition, AttributeDefinition, InstrumentKind } from './telemetry/metric-definition.js';
export { MeterBinding, refreshTelemetryBindings } from './telemetry/meter-binding.js';
export { detectApiVersionConflict, warnOnApiVersionConflict, apiVersionConflictMessage } from './telemetry/api-versions.js';
export type { ApiVersionConflict } from './telemetry/api-versions.js';
export type { TelemetryOptions, MeterScope, InstrumentFactory } from './telemetry/meter-binding.js';
export { TracerBinding, withSpan, endSpan, endSpanWhen, errorType } from './telemetry/tracer-binding.js';
export type { TracerOptions } from './telemetry/tracer-binding.js';
export { formatTraceparent, parseTraceparent, contextFromTraceparent, TRACEPARENT_LENGTH, MAX_TRACESTATE_LENGTH } from './telemetry/trace-context.js';
export { telemetryCallbackErrors } from './telemetry/observation-hub.js';
export type { Observe, ObserveCallback } from './telemetry/observation-hub.js';
export { DurationSampler, isNoopHistogram } from './telemetry/duration-sampler.js';
export type { ChunkKeys, StoreResult, RetrieveResult } from './api/chunk-shapes.js';
export { refuseUnknownOptions } from './options/refuse-unknown-options.js';
export { curveServerOptions, curveClientOptions, checkAuthToken } from './security/curve-credentials.js';
export type { CurveServerSocketOptions, CurveClientSocketOptions, CurvePurpose } from './security/curve-credentials.js';
