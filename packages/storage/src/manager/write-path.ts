import { SpanKind, type Span } from '@opentelemetry/api';
import { ATTR, debugLogger, endSpan, InvalidArgumentError, MemoryLayout, withSpan, type ObjectKey, type TracerBinding } from '@tierkv/core';
import type { L1Manager, WriteMode } from '../l1/l1-manager.js';
import type { MemoryObj } from '../l1/memory-obj.js';
import type { DeleteTracker } from './delete-tracker.js';
import type { DurableOutcome } from './durable-commit.js';
import { checkKeyList } from './key-checks.js';
import type { StorageManagerListener } from './storage-listener.js';
import type { StorageMetrics } from './storage-metrics.js';
import type { WriteRejectReason } from './storage-options.js';
import type { StoreController } from './store-controller.js';

const log = debugLogger('tierkv:storage');
const INTERNAL = SpanKind.INTERNAL;

/** What the write path uses of its StorageManager. */
export interface WritePathDeps {
  readonly l1: L1Manager;
  readonly store: StoreController;
  readonly deletes: DeleteTracker;
  readonly metrics: StorageMetrics;
  readonly tracing: TracerBinding;
  /** Why writes are refused right now (the write-through backlog), or undefined. */
  backpressure(): WriteRejectReason | undefined;
  /** Throws ClosedError once the manager is closing. */
  check(operation: string): void;
  emit(fn: (listener: StorageManagerListener) => void): void;
}

/**
 * The two steps of every write, shared by the owned `WriteReservation` and the key-based
 * `reserveWrite`/`finishWrite`: reserve L1 slots (all refused under back-pressure), then publish
 * them by generation and queue their write-through to L2. Each step counts, notifies listeners and
 * traces itself.
 */
export class WritePath {
  readonly #d: WritePathDeps;

  constructor(deps: WritePathDeps) {
    this.#d = deps;
  }

  /**
   * Reserves what fits of `keys`. `spanName` 'tierkv.storage.reserve' ends its span here;
   * 'tierkv.storage.store' (a reservation's span, reserve to commit) returns it open.
   */
  reserve(
    operation: string,
    keys: readonly ObjectKey[],
    layout: MemoryLayout,
    mode: WriteMode,
    temporary: boolean,
    spanName: 'tierkv.storage.reserve' | 'tierkv.storage.store',
  ): { objs: (MemoryObj | undefined)[]; gens: number[]; span: Span | undefined } {
    const d = this.#d;
    d.check(operation);
    checkKeyList(keys);
    if (!(layout instanceof MemoryLayout)) throw new InvalidArgumentError('layout', 'expected a MemoryLayout instance');
    const span = d.tracing.start(spanName, INTERNAL);
    const refused = keys.length > 0 ? d.backpressure() : undefined;
    let objs: (MemoryObj | undefined)[];
    let gens: number[];
    if (refused) {
      objs = keys.map(() => undefined);
      gens = keys.map(() => 0);
      if (refused === 'queue_full') d.metrics.writeRejectedQueueFull += keys.length;
      else d.metrics.writeRejectedQueueBytes += keys.length;
      if (log.enabled) log('write-through backlog over its bound (%s): refused %d keys', refused, keys.length);
    } else {
      const results = d.l1.reserveWrite(keys, layout, mode, { temporary, partial: true });
      objs = results.map((r) => (r.code === 'SUCCESS' ? r.obj : undefined));
      gens = d.l1.generations(keys);
    }
    const ok: ObjectKey[] = [];
    const failed: ObjectKey[] = [];
    objs.forEach((o, i) => (o ? ok : failed).push(keys[i]!));
    d.metrics.writeRequests++;
    d.metrics.writeSucceededKeys += ok.length;
    d.metrics.writeFailedKeys += failed.length;
    d.emit((l) => l.onSmReservedWrite?.(ok, failed));
    const ownSpan = spanName === 'tierkv.storage.reserve';
    if (span?.isRecording()) {
      const attributes = { [ATTR.KEYS_COUNT]: keys.length, [ATTR.KEYS_RESERVED]: ok.length, [ATTR.STORAGE_TEMPORARY]: temporary, ...(refused ? { [ATTR.STORAGE_REFUSAL_REASON]: refused } : {}) };
      if (ownSpan) endSpan(span, () => attributes);
      else span.setAttributes(attributes);
    } else if (span && ownSpan) span.end();
    return { objs, gens, span: ownSpan ? undefined : span };
  }

  /**
   * Publishes reserved slots by generation; queues the write-through of the non-temporary ones.
   * `durable`: per key, how its write-through ended instead of whether it was published.
   * `storeSpan`: a reservation's open 'tierkv.storage.store' span, which the commit ends instead
   * of starting a 'tierkv.storage.commit' span of its own (the key-based finishWrite).
   */
  commit(keys: readonly ObjectKey[], gens: readonly number[], temporary: boolean, durable?: false, storeSpan?: Span): boolean[];
  commit(keys: readonly ObjectKey[], gens: readonly number[], temporary: boolean, durable: true, storeSpan?: Span): Promise<DurableOutcome>[];
  commit(keys: readonly ObjectKey[], gens: readonly number[], temporary: boolean, durable = false, storeSpan?: Span): boolean[] | Promise<DurableOutcome>[] {
    this.#d.check('commit');
    const span = storeSpan ?? this.#d.tracing.start('tierkv.storage.commit', INTERNAL);
    if (!span) return this.#commit(keys, gens, temporary, durable, undefined, false);
    // The write-through's L2 spans, started inside, become its children.
    return withSpan(span, () => this.#commit(keys, gens, temporary, durable, span, storeSpan !== undefined));
  }

  #commit(keys: readonly ObjectKey[], gens: readonly number[], temporary: boolean, durable: boolean, span: Span | undefined, isStore: boolean): boolean[] | Promise<DurableOutcome>[] {
    const d = this.#d;
    const results = d.l1.finishWrite(keys, gens).map((r) => r.code === 'SUCCESS');
    const ok = keys.filter((_, i) => results[i]);
    const failed = keys.filter((_, i) => !results[i]);
    // A write supersedes a failed delete's leftover L2 copy (the write-through overwrites it).
    if (ok.length > 0) d.deletes.written(ok);
    const l2 = temporary ? undefined : d.store.enqueue(ok, durable);
    d.emit((l) => l.onSmWriteFinished?.(ok, failed));
    // A store span got its key count (all keys asked for) at reserve; a commit span counts what it finished.
    const attributes = () => ({ [ATTR.KEYS_PUBLISHED]: ok.length, [ATTR.STORAGE_DURABLE]: durable, [ATTR.STORAGE_TEMPORARY]: temporary, ...(isStore ? {} : { [ATTR.KEYS_COUNT]: keys.length }) });
    if (!durable) {
      if (span) endSpan(span, attributes);
      return results;
    }
    let j = 0;
    const skipped: Promise<DurableOutcome> = Promise.resolve('l2_skipped');
    const notStored: Promise<DurableOutcome> = Promise.resolve('not_stored');
    const outcomes = results.map((published) => (!published ? notStored : (l2?.[j++] ?? skipped)));
    // A durable commit's span lasts until its write-through settled: the L2 stores are its children.
    if (span) {
      void Promise.all(outcomes).then((o) => {
        let n = 0;
        for (const x of o) if (x === 'durable') n++;
        endSpan(span, () => ({ ...attributes(), [ATTR.KEYS_DURABLE]: n }));
      });
    }
    return outcomes;
  }
}
