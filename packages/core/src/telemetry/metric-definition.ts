/** The instrument a catalog metric is created as. Observable kinds are read at collection time. */
export type InstrumentKind =
  | 'counter'
  | 'updowncounter'
  | 'histogram'
  | 'gauge'
  | 'observable_counter'
  | 'observable_updowncounter'
  | 'observable_gauge';

export interface AttributeDefinition {
  readonly name: string;
  /** The closed set of values this attribute can take; attributes are always bounded. */
  readonly values: readonly string[];
  readonly description: string;
}

/** One metric of the catalog: everything needed to create its instrument and to document it. */
export interface MetricDefinition {
  /** OpenTelemetry name: `tierkv.` namespace, lowercase, dotted. */
  readonly name: string;
  readonly kind: InstrumentKind;
  /** UCUM unit: `s`, `By`, `{chunk}`, `{request}`, `1` … */
  readonly unit: string;
  readonly description: string;
  readonly attributes: readonly AttributeDefinition[];
  /** LMCache metrics this one replaces, so existing dashboards can be ported. */
  readonly lmcache?: readonly string[];
  /** Histogram bucket boundaries, given to the SDK as advice. Defaults to LATENCY_BOUNDARIES_S for unit `s`. */
  readonly boundaries?: readonly number[];
}

/** Seconds from 10 µs to 10 s: our latencies span an in-memory lookup to a slow remote load. */
export const LATENCY_BOUNDARIES_S: readonly number[] = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
  2.5, 5, 10,
]);

/** Batch sizes in keys, for histograms of how many keys one call carried. */
export const BATCH_SIZE_BOUNDARIES: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]);
