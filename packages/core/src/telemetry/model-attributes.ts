import type { Attributes } from '@opentelemetry/api';
import { ConfigError } from '../errors/config-error.js';
import { ATTR } from './attribute-names.js';

/** The opt-in per-model and per-tenant attributes (LMCache #3108): `true`, or the limit of distinct (model, salt) pairs. */
export type PerModelAttributesOption = boolean | { readonly limit?: number };

/** Distinct (model, cache salt) pairs reported by default; the rest share the `_OTHER` series. */
export const DEFAULT_PER_MODEL_ATTRIBUTES_LIMIT = 50;

/** The model and salt values of every pair past the limit (OpenTelemetry's fallback value, as for `error.type`). */
export const OTHER_MODEL = '_OTHER';

/** Most distinct base attribute sets (request types) one instance combines with the pairs. */
const MAX_BASES = 64;

/**
 * Adds `gen_ai.request.model` and `tierkv.cache.salt` to a metric's attributes, for at most `limit`
 * distinct (model, salt) pairs: the first ones seen. Later pairs are reported as `_OTHER`, so the
 * series and this object's memory stay bounded however many models or tenants clients name.
 *
 * Why a limit of our own, beside the SDK's cardinality limit: with cumulative temporality (every
 * Prometheus reader) sdk-metrics 2.x applies that limit to the attribute sets of one collection
 * interval only; its cumulative storage keeps every set ever reported, so a stream of new tenants
 * would grow the series (and the process) without end. Within one interval the SDK's limit still
 * holds (its `otel.metric.overflow` series).
 */
export class ModelAttributes {
  readonly limit: number;
  readonly #pairs = new Map<string, number>();
  /** Merged attribute objects by base index and pair index (pair `limit` is `_OTHER`): built once each. */
  readonly #merged = new Map<number, Attributes>();

  constructor(limit: number = DEFAULT_PER_MODEL_ATTRIBUTES_LIMIT) {
    this.limit = limit;
  }

  /**
   * The index of the (model, salt) pair: 0 … limit - 1 for the first `limit` pairs seen, `limit` for
   * every later one (`_OTHER`). A caller that samples per pair sizes its slots `limit + 1`.
   */
  pairIndex(model: string, salt: string): number {
    const key = `${model}\u0000${salt}`;
    let pair = this.#pairs.get(key);
    if (pair === undefined) {
      if (this.#pairs.size < this.limit) this.#pairs.set(key, (pair = this.#pairs.size));
      else pair = this.limit;
    }
    return pair;
  }

  /** The merged attributes for `base` (index `baseIndex` < 64, one per distinct base set) and the chunks' model and salt. */
  of(baseIndex: number, base: Attributes, model: string, salt: string): Attributes {
    const pair = this.pairIndex(model, salt);
    const id = (baseIndex % MAX_BASES) + MAX_BASES * pair;
    let attrs = this.#merged.get(id);
    if (!attrs) {
      const other = pair === this.limit;
      attrs = Object.freeze({ ...base, [ATTR.GEN_AI_REQUEST_MODEL]: other ? OTHER_MODEL : model, [ATTR.CACHE_SALT]: other ? OTHER_MODEL : salt });
      this.#merged.set(id, attrs);
    }
    return attrs;
  }

  /** The instance an option asks for, or undefined when off; `field` names it in errors. */
  static fromOption(option: PerModelAttributesOption | undefined, field: string): ModelAttributes | undefined {
    if (option === undefined || option === false) return undefined;
    if (option === true) return new ModelAttributes();
    if (typeof option !== 'object' || option === null) throw new ConfigError(field, `expected true, false or { limit }, got ${JSON.stringify(option)}`);
    for (const k of Object.keys(option)) if (k !== 'limit') throw new ConfigError(`${field}.${k}`, 'unknown option; the only one is limit (distinct model/salt pairs reported)');
    const limit = option.limit ?? DEFAULT_PER_MODEL_ATTRIBUTES_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
      throw new ConfigError(`${field}.limit`, `expected a whole number of model/salt pairs from 1 to 10000, got ${JSON.stringify(option.limit)}`);
    }
    return new ModelAttributes(limit);
  }
}
