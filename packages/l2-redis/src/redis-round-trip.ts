import { ATTR, TimeoutError, UnavailableError, endSpan, type TracerBinding } from '@tierkv/core';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import type { Cluster, Redis } from 'ioredis';
import type { FramedSetCommand } from './framed-set-command.js';
import type { RedisCommand, RedisErrorType, RedisMetrics } from './redis-metrics.js';
import { VALUE_HEADER_BYTES } from './value-header.js';

/** One reply of a pipeline: ioredis' `[error, result]` pairs. */
export type Reply = [Error | null, unknown];

/** The commands the adapter sends; a Redis, a Cluster and a pipeline all have them. */
export interface Commands {
  getBuffer(key: string, callback?: (err?: Error | null, value?: Buffer | null) => void): unknown;
  sendCommand(command: FramedSetCommand): unknown;
  touch(key: string): unknown;
  expire(key: string, seconds: number): unknown;
  unlink(key: string): unknown;
  strlen(key: string): unknown;
}

/** Server replies that mean "this Redis cannot serve now" rather than "this key failed". */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN|BUSY)\b/;

export function errorTypeOf(err: Error): RedisErrorType {
  if (err instanceof TimeoutError || err.message === 'Command timed out') return 'timeout';
  if (err.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(err.message)) return 'server';
  return 'connection';
}

/** Whether the error says Redis (or the path to it) is down: these count against the breaker. */
export function isTransportError(err: Error): boolean {
  return errorTypeOf(err) !== 'server';
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(what, ms, 'redis.operationTimeoutMs')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Splits items into consecutive groups of at most `maxBytes` (at least one item each). */
export function* groups(sizes: readonly number[], maxBytes: number): Generator<[number, number]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]! + VALUE_HEADER_BYTES;
    if (i > start && bytes + size > maxBytes) {
      yield [start, i];
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < sizes.length) yield [start, sizes.length];
}

/** What a round trip needs of its adapter; `tracing` is read per call (a StorageManager can rebind it). */
export interface RoundTripDeps {
  readonly client: Redis | Cluster;
  readonly isCluster: boolean;
  readonly operationTimeoutMs: number;
  readonly metrics: RedisMetrics;
  readonly tracing: () => TracerBinding;
  readonly connection: Attributes;
}

/**
 * The Redis L2 adapter's round trips: commands sent together under one deadline, with one CLIENT
 * span and one duration record per round trip (never per key).
 */
export class RedisRoundTrips {
  readonly #d: RoundTripDeps;

  constructor(deps: RoundTripDeps) {
    this.#d = deps;
  }

  /**
   * Sends `count` commands (`issue`, plus one `before` command ahead of each when given) in one
   * round trip and returns their replies flat: `[before_i, issue_i]` per item, or `issue_i`.
   * Single node: one Pipeline, or with `direct` each command on its own (written back to back,
   * the `before` commands as one pipeline ahead of them). Cluster: per-key commands that ioredis
   * routes per slot and auto-pipelines per node. Never rejects: a failed or late round trip
   * becomes an error reply for every command. Records one duration per round trip.
   */
  async run(
    command: RedisCommand,
    count: number,
    issue: (c: Commands, i: number) => unknown,
    options: { before?: (c: Commands, i: number) => unknown; node?: Redis; direct?: boolean } = {},
  ): Promise<Reply[]> {
    const before = options.before;
    const total = before ? 2 * count : count;
    return this.measure(command, count, total, () => this.#send(command, count, issue, options));
  }

  /**
   * One round trip of `total` replies (`count` keys) under one CLIENT span and one duration
   * record; `send` applies the deadline itself. Never rejects: a failed round trip becomes an
   * error reply for every command.
   */
  async measure(command: RedisCommand, count: number, total: number, send: () => Promise<Reply[]>): Promise<Reply[]> {
    const started = performance.now();
    // One CLIENT span per round trip (db semantic conventions), never per key; a child of the
    // `tierkv.l2 <operation>` span of the call it serves.
    const span = this.#d.tracing().start(count > 1 ? `BATCH ${command}` : command, SpanKind.CLIENT, () => this.#spanAttributes(command, count));
    let replies: Reply[];
    try {
      replies = await send();
      if (replies.length !== total) throw new UnavailableError(`Redis returned ${replies.length} replies for ${total} commands`);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      replies = new Array<Reply>(total).fill([error, null]);
    }
    let errorType: RedisErrorType | undefined;
    for (const [err] of replies) {
      if (!err) continue;
      const t = errorTypeOf(err);
      if (errorType === undefined || errorType === 'server') errorType = t;
    }
    this.#d.metrics.recordOperation(command, count, (performance.now() - started) / 1000, errorType);
    if (span) endSpan(span, undefined, errorType === undefined ? undefined : { code: errorType });
    return replies;
  }

  /** The ioredis commands of a round trip, under the deadline. */
  #send(
    command: RedisCommand,
    count: number,
    issue: (c: Commands, i: number) => unknown,
    options: { before?: (c: Commands, i: number) => unknown; node?: Redis; direct?: boolean },
  ): Promise<Reply[]> {
    const before = options.before;
    const settle = (p: unknown): Promise<Reply> =>
      Promise.resolve(p).then(
        (v): Reply => [null, v],
        (e: Error): Reply => [e, null],
      );
    let pending: Promise<Reply[]>;
    if (options.node || (!this.#d.isCluster && !options.direct)) {
      const pipeline = (options.node ?? (this.#d.client as Redis)).pipeline();
      for (let i = 0; i < count; i++) {
        if (before) before(pipeline as unknown as Commands, i);
        issue(pipeline as unknown as Commands, i);
      }
      pending = pipeline.exec().then((r) => (r ?? []) as Reply[]);
    } else if (!this.#d.isCluster && before) {
      const pipeline = (this.#d.client as Redis).pipeline();
      for (let i = 0; i < count; i++) before(pipeline as unknown as Commands, i);
      const first = pipeline.exec().then(
        (r) => (r ?? []) as Reply[],
        (e: Error) => new Array<Reply>(count).fill([e, null]),
      );
      const client = this.#d.client as unknown as Commands;
      const rest: Promise<Reply>[] = [];
      for (let i = 0; i < count; i++) rest.push(settle(issue(client, i)));
      pending = Promise.all([first, Promise.all(rest)]).then(([a, b]) => {
        const out: Reply[] = [];
        for (let i = 0; i < count; i++) out.push(a[i] ?? [new Error('missing reply'), null], b[i]!);
        return out;
      });
    } else if (before) {
      // Cluster: each key's pair (STRLEN, then SET) is one pipeline on the key's node. Sent as
      // separate commands, a MOVED redirect could retry the STRLEN after the SET had landed and
      // count a new key as a replacement (usage then drifted from Redis, the cluster suite's
      // flake); ioredis resends a redirected pipeline whole, in order.
      const cluster = this.#d.client as unknown as { pipeline(): { exec(): Promise<unknown> } & Commands };
      const pairs: Promise<Reply[]>[] = [];
      for (let i = 0; i < count; i++) {
        const pipeline = cluster.pipeline();
        before(pipeline, i);
        issue(pipeline, i);
        pairs.push(
          pipeline.exec().then(
            (r) => ((r ?? []) as Reply[]).concat(),
            (e: Error) => [
              [e, null],
              [e, null],
            ],
          ),
        );
      }
      pending = Promise.all(pairs).then((all) => all.flat());
    } else {
      const client = this.#d.client as unknown as Commands;
      const all: Promise<Reply>[] = [];
      for (let i = 0; i < count; i++) all.push(settle(issue(client, i)));
      pending = Promise.all(all);
    }
    return withDeadline(pending, this.#d.operationTimeoutMs, `Redis ${command} x${count}`);
  }

  #spanAttributes(command: RedisCommand, count: number): Attributes {
    const attrs: Attributes = { [ATTR.DB_SYSTEM_NAME]: 'redis', [ATTR.DB_OPERATION_NAME]: count > 1 ? `BATCH ${command}` : command, ...this.#d.connection };
    if (count > 1) attrs[ATTR.DB_OPERATION_BATCH_SIZE] = count;
    return attrs;
  }
}
