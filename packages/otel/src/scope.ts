import type { MeterScope } from '@tierkv/core';

/** The instrumentation scope of `@tierkv/otel`'s own metrics. */
export const OTEL_SCOPE: MeterScope = Object.freeze({ name: '@tierkv/otel', version: '0.1.0' });
