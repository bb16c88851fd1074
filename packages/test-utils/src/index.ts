export { createTestMeterProvider, findMetric, valueOf, histogramSumOf } from './test-meter-provider.js';
export type { TestMeterProvider } from './test-meter-provider.js';
export { freePort } from './free-port.js';
export { waitFor } from './wait-for.js';
export { thrownBy } from './thrown-by.js';
export { createTestTracerProvider } from './test-tracer-provider.js';
export type { TestTracerProvider } from './test-tracer-provider.js';
