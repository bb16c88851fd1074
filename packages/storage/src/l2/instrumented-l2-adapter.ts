import { SpanKind } from '@opentelemetry/api';
import { ATTR, debugLogger, endSpan, TracerBinding, withSpan, type MemoryLayout, type ObjectKey, type TelemetryOptions } from '@tierkv/core';
import type { L2Adapter, L2StoreItem, L2Usage } from './l2-adapter.js';
import { classifyError, isL2FailureReason, type L2FailureReasons } from './l2-failure.js';
import type { L2Listener, L2Operation } from './l2-listener.js';
import { L2_METER_SCOPE, L2Metrics, type L2MetricOperation } from './l2-metrics.js';
import { FsL2Adapter } from './fs/fs-adapter.js';
import { MemoryL2Adapter } from './memory-adapter.js';

const log = debugLogger('tierkv:l2');

/**
 * Wraps any adapter so that every adapter, including a user's, gets the standard `tierkv.l2.*`
 * metrics and `L2Listener` events. It is also the tier boundary's one failure handler: a rejected
 * batch or a malformed answer (wrong length, non-boolean) becomes per-key failures, counted here.
 */
export class InstrumentedL2Adapter implements L2Adapter {
  readonly name: string;
  readonly inner: L2Adapter;
  readonly metrics: L2Metrics;
  readonly #listeners = new Set<L2Listener>();
  readonly #tracing: TracerBinding;
  /**
   * Whether the inner adapter may start spans of its own (Redis, a user's adapter), which must
   * nest under this call's span: only then does the call run in the span's context. The built-in
   * memory and fs adapters start none, and entering a context (AsyncLocalStorage) per L2 call was
   * a measurable share of a recorded storage round.
   */
  readonly #innerTraces: boolean;
  #listenerErrors = 0;

  constructor(inner: L2Adapter, telemetry: TelemetryOptions = {}) {
    this.inner = inner;
    this.name = inner.name;
    this.metrics = new L2Metrics(inner.name, () => this.usage(), telemetry);
    this.#tracing = new TracerBinding(L2_METER_SCOPE, telemetry);
    // Exact classes: a subclass may add spans of its own.
    this.#innerTraces = inner.constructor !== MemoryL2Adapter && inner.constructor !== FsL2Adapter;
    // The manager's providers reach the adapter's own metrics (and spans) too.
    if (telemetry.meterProvider !== undefined || telemetry.tracerProvider !== undefined) inner.bindTelemetry?.(telemetry);
  }

  /** Listener callbacks that threw (they are isolated). */
  get listenerErrors(): number {
    return this.#listenerErrors;
  }

  addListener(listener: L2Listener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  async store(items: readonly L2StoreItem[], reasons: L2FailureReasons = []): Promise<boolean[]> {
    if (items.length === 0) return [];
    const keys = items.map((i) => i.key);
    const { result, rejected } = await this.#run('store', keys, () => this.inner.store(items, reasons));
    if (!rejected) this.#settle('store', keys, result, reasons, (i) => items[i]!.data.byteLength);
    return result;
  }

  async lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const { result, rejected } = await this.#run('lookup', keys, () => this.inner.lookupAndLock(keys));
    if (rejected) return result;
    let hits = 0;
    for (const r of result) if (r) hits++;
    this.metrics.lookupHits += hits;
    this.metrics.lookupMisses += keys.length - hits;
    return result;
  }

  /** Loads; a key answered false is counted as a load failure (callers load only what lookupAndLock found). */
  async load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout, reasons: L2FailureReasons = []): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const { result, rejected } = await this.#run('load', keys, () => this.inner.load(keys, targets, layout, reasons));
    if (!rejected) this.#settle('load', keys, result, reasons, (i) => targets[i]!.byteLength);
    return result;
  }

  async unlock(keys: readonly ObjectKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#run('unlock', keys, async () => {
      await this.inner.unlock(keys);
      return keys.map(() => true);
    });
  }

  async delete(keys: readonly ObjectKey[]): Promise<boolean[]> {
    return (await this.deleteOutcome(keys)).result;
  }

  /**
   * delete, telling a failed call (`rejected`: the adapter could not delete, its copies may remain)
   * from a per-key false (not there, or pinned).
   */
  async deleteOutcome(keys: readonly ObjectKey[]): Promise<{ result: boolean[]; rejected: boolean }> {
    if (keys.length === 0) return { result: [], rejected: false };
    const outcome = await this.#run('delete', keys, () => this.inner.delete(keys));
    if (outcome.rejected) return outcome;
    const gone = keys.filter((_, i) => outcome.result[i]);
    if (gone.length > 0) this.#emit((l) => l.onL2KeysDeleted?.(this.name, gone));
    return outcome;
  }

  async clear(): Promise<number> {
    const inner = this.inner;
    if (!inner.clear) return 0;
    let n = 0;
    await this.#run('clear', [], async () => {
      n = await inner.clear!();
      return [];
    });
    return n;
  }

  usage(): L2Usage {
    return this.inner.usage();
  }

  async close(): Promise<void> {
    this.metrics.close();
    await this.inner.close();
  }

  /**
   * Runs one adapter call with the in-flight count and duration. A rejection becomes all-false,
   * every key counted as a failure of `operation` (reason from the error, else `rejected`) and
   * reported to listeners; an answer of the wrong
   * shape is repaired (missing answers are failures). ClosedError propagates: it is shutdown, not a
   * tier failure.
   */
  async #run(
    operation: L2MetricOperation,
    keys: readonly ObjectKey[],
    call: () => Promise<boolean[]>,
  ): Promise<{ result: boolean[]; rejected: boolean }> {
    const m = this.metrics;
    // One span per adapter call (a batch), never per key; the adapter's own spans (Redis commands) nest under it.
    const span = this.#tracing.start(`tierkv.l2 ${operation}`, SpanKind.INTERNAL, () => ({ [ATTR.L2_ADAPTER]: this.name, [ATTR.L2_OPERATION]: operation, [ATTR.KEYS_COUNT]: keys.length }));
    const t0 = m.startCall(operation);
    m.inflight[operation]++;
    let spanError: unknown;
    let answered: readonly boolean[] | undefined;
    try {
      const raw = await (this.#innerTraces ? withSpan(span, call) : call());
      if (span && Array.isArray(raw)) answered = raw;
      if (operation === 'clear' || operation === 'unlock') return { result: raw, rejected: false };
      if (Array.isArray(raw) && raw.length === keys.length) return { result: raw.map((r) => r === true), rejected: false };
      log('%s.%s answered %s for %d keys; missing answers count as failures', this.name, operation, Array.isArray(raw) ? `${raw.length} results` : typeof raw, keys.length);
      return { result: keys.map((_, i) => Array.isArray(raw) && raw[i] === true), rejected: false };
    } catch (err) {
      spanError = err;
      if ((err as { code?: unknown } | null)?.code === 'ERR_CLOSED') throw err;
      m.countFailures(operation, classifyError(err, 'rejected'), Math.max(1, keys.length));
      if (log.enabled) log('%s.%s rejected a batch of %d keys: %s', this.name, operation, keys.length, String(err));
      const l2op: L2Operation | undefined = operation === 'unlock' || operation === 'clear' ? undefined : operation;
      if (l2op) this.#emit((l) => l.onL2KeysFailed?.(this.name, l2op, keys, err));
      return { result: keys.map(() => false), rejected: true };
    } finally {
      m.inflight[operation]--;
      m.endCall(operation, t0);
      if (span) {
        endSpan(span, answered && operation !== 'clear' && operation !== 'unlock' ? () => ({ [ATTR.KEYS_OK]: countTrue(answered!) }) : undefined, spanError);
      }
    }
  }

  /**
   * Counts the per-key answers of a store or load that ran (objects and bytes moved, failed keys by
   * the reason the adapter gave, `other` when it gave none or one outside the set) and tells
   * listeners which keys made it and which failed.
   */
  #settle(operation: 'store' | 'load', keys: readonly ObjectKey[], result: readonly boolean[], reasons: L2FailureReasons, bytesOf: (i: number) => number): void {
    const m = this.metrics;
    const ok: ObjectKey[] = [];
    const failed: ObjectKey[] = [];
    let bytes = 0;
    result.forEach((r, i) => {
      if (r) {
        ok.push(keys[i]!);
        bytes += bytesOf(i);
      } else {
        failed.push(keys[i]!);
        const reason = reasons[i];
        m.countFailures(operation, isL2FailureReason(reason) ? reason : 'other');
      }
    });
    if (operation === 'store') {
      m.stored += ok.length;
      m.bytesIn += bytes;
      if (ok.length > 0) this.#emit((l) => l.onL2KeysStored?.(this.name, ok));
    } else {
      m.loaded += ok.length;
      m.bytesOut += bytes;
      if (ok.length > 0) this.#emit((l) => l.onL2KeysLoaded?.(this.name, ok));
    }
    if (failed.length > 0) this.#emit((l) => l.onL2KeysFailed?.(this.name, operation, failed));
  }

  #emit(fn: (listener: L2Listener) => void): void {
    for (const l of this.#listeners) {
      try {
        fn(l);
      } catch (err) {
        this.#listenerErrors++;
        if (log.enabled) log('an L2 listener threw (isolated): %s', String(err));
      }
    }
  }
}

function countTrue(answers: readonly boolean[]): number {
  let n = 0;
  for (const a of answers) if (a === true) n++;
  return n;
}
