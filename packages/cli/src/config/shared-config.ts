import { totalmem } from 'node:os';
import { z } from 'zod';
import { enumListSchema, enumSchema, hostSchema, portSchema, sizeSchema, urlSchema } from './leaf-schemas.js';

/**
 * Settings several commands share (`tierkv server`, `controller`, `demo`), defined once so their
 * allowed values and limits cannot drift apart.
 */

/** Eviction policies the storage engine offers. */
export const EVICTION_POLICIES = ['clock', 'lru'] as const;
/** Exporter names @tierkv/otel understands (`OTEL_METRICS_EXPORTER` syntax). */
export const METRICS_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;

/** The L1 capacity: at least 1 MiB. */
// L1 is allocated lazily, so a size beyond the machine's memory would start fine and fail (or be
// killed) only once it fills: refused up front.
export const l1SizeSchema = () =>
  sizeSchema({ min: 1024 * 1024, max: { bytes: totalmem(), why: `this machine has ${(totalmem() / 2 ** 30).toFixed(1)} GiB of memory; give L1 at most that (less, to leave room for the process)` } });
export const evictionSchema = () => enumSchema(EVICTION_POLICIES);
/** The filesystem L2 byte budget: at least 1 MiB. */
export const fsBudgetSchema = () => sizeSchema({ min: 1024 * 1024 });
export const redisUrlSchema = () => urlSchema(['redis', 'rediss'], 'redis://127.0.0.1:6379');

/** `metrics`: exporters (unset: @tierkv/otel decides from OTEL_METRICS_EXPORTER) and the Prometheus endpoint. */
export const metricsSchema = () =>
  z.strictObject({
    exporters: enumListSchema(METRICS_EXPORTERS).optional(),
    host: hostSchema().optional(),
    port: portSchema().optional(),
  });
