import {
  ClosedError,
  InvalidArgumentError,
  UnavailableError,
  debugLogger,
  encodeKey,
  TracerBinding,
  type MemoryLayout,
  type ObjectKey,
  type TelemetryOptions,
} from '@tierkv/core';
import { selectXxh3, type L2Adapter, type L2StoreItem, type L2Usage, type Xxh3Hasher } from '@tierkv/storage';
import type { Attributes } from '@opentelemetry/api';
import { Cluster, type Redis } from 'ioredis';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { resolveRedisL2Options, type RedisL2Options, type ResolvedRedisL2Options } from './redis-options.js';
import { RedisMetrics, redisConnectionAttributes } from './redis-metrics.js';
import { GuardedCalls } from './guarded-calls.js';
import { redisKeyOf } from './redis-key.js';
import { VALUE_HEADER_BYTES, keyChecksum, layoutChecksumOf } from './value-header.js';
import { createRedisClient, whenReady } from './redis-client.js';
import { storeGroup } from './store-group.js';
import { loadGroup } from './load-group.js';
import { DirectLoads, directLoadEndpoint } from './direct-loads.js';
import { RedisRoundTrips, groups, isTransportError } from './redis-round-trip.js';
import { masterNodes, scanPrefix } from './redis-scan.js';

const log = debugLogger('tierkv:l2-redis');

/** The instrumentation scope of the adapter's spans. */
const REDIS_SCOPE = { name: '@tierkv/l2-redis', version: '0.1.0' } as const;

/**
 * A Redis / Valkey L2 tier on ioredis, single node or cluster.
 *
 * - Values are `header ‖ payload` Buffers (see value-header.ts); a truncated or corrupt value is a
 *   miss, counted in `tierkv.l2.redis.corrupt`, and never copied into the caller's memory.
 * - Every batch is one pipeline per round trip (single node) or per-key commands that ioredis
 *   auto-pipelines per cluster node; every round trip has a deadline (`operationTimeoutMs`).
 * - A circuit breaker guards every call: while open, lookups and loads answer "miss", stores are
 *   dropped (counted), deletes reject with UnavailableError. Nothing is queued while Redis is down
 *   (`enableOfflineQueue: false`), and ioredis reconnects in the background, so the adapter
 *   recovers by itself.
 * - `lookupAndLock` cannot pin a key on a shared remote server: it refreshes the key's TTL (or
 *   LRU clock) and keeps a local pin so this adapter's own `delete` spares it until `unlock`. A
 *   key evicted by Redis in between makes the following `load` a plain miss.
 */
export class RedisL2Adapter implements L2Adapter {
  readonly name: string;
  readonly #o: ResolvedRedisL2Options;
  readonly #client: Redis | Cluster;
  readonly #owned: boolean;
  readonly #isCluster: boolean;
  readonly #breaker: CircuitBreaker;
  readonly #metrics: RedisMetrics;
  #tracing: TracerBinding;
  /** Whether the adapter was given providers of its own (a StorageManager's then do not replace them). */
  readonly #explicitTelemetry: { meter: boolean; tracer: boolean };
  /** `db.namespace`, and `server.address`/`server.port` of a single-node client (a cluster has many: omitted). */
  #connection: Attributes = {};
  readonly #trips: RedisRoundTrips;
  /** The direct load path (undefined: loads go through ioredis, #loadPathReason says why). */
  readonly #direct: DirectLoads | undefined;
  readonly #loadPathReason: string | undefined;
  readonly #pins = new Map<string, number>();
  readonly #calls: GuardedCalls;
  #closing: Promise<void> | undefined;
  #usedBytes = 0;
  #objects = 0;
  /** The payload hash; with the WebAssembly fallback it arrives once compiled (#hasherReady). */
  #hasher: Xxh3Hasher | undefined;
  readonly #hasherReady: Promise<Xxh3Hasher>;

  constructor(options: RedisL2Options = {}, telemetry: TelemetryOptions = {}) {
    const o = resolveRedisL2Options(options);
    this.#o = o;
    const hasher = selectXxh3();
    if ('digest' in hasher) {
      this.#hasher = hasher;
      this.#hasherReady = Promise.resolve(hasher);
    } else {
      this.#hasherReady = hasher.then((h) => (this.#hasher = h));
      // Without WebAssembly (node --jitless) every call fails in #guarded; never an unhandled rejection.
      this.#hasherReady.catch((err: unknown) => log('no XXH3 available: %s', String(err)));
    }
    this.name = o.name;
    this.#breaker = new CircuitBreaker(o.breaker, o.now, (to) => this.#onTransition(to));
    this.#metrics = new RedisMetrics(o.name, () => this.#breaker.state, telemetry);
    this.#calls = new GuardedCalls(this.#breaker, this.#metrics);
    this.#tracing = new TracerBinding(REDIS_SCOPE, telemetry);
    if (o.client) {
      this.#client = o.client;
      this.#owned = false;
    } else {
      this.#client = createRedisClient(o);
      this.#owned = true;
      // Without a listener ioredis prints every connection error; the breaker and metrics already tell.
      this.#client.on('error', (err: Error) => log('redis error: %s', err.message));
    }
    this.#isCluster = this.#client instanceof Cluster || (this.#client as { isCluster?: boolean }).isCluster === true;
    this.#explicitTelemetry = { meter: telemetry.meterProvider !== undefined, tracer: telemetry.tracerProvider !== undefined };
    this.#connection = redisConnectionAttributes(this.#client, this.#isCluster);
    this.#metrics.setConnection(this.#connection);
    this.#trips = new RedisRoundTrips({
      client: this.#client,
      isCluster: this.#isCluster,
      operationTimeoutMs: o.operationTimeoutMs,
      metrics: this.#metrics,
      tracing: () => this.#tracing,
      connection: this.#connection,
    });
    const endpoint = directLoadEndpoint(o, this.#client, this.#isCluster);
    if (typeof endpoint === 'string') {
      this.#loadPathReason = endpoint;
      log('loads go through ioredis: %s', endpoint);
    } else this.#direct = new DirectLoads(endpoint, o.operationTimeoutMs);
  }

  /**
   * Reports metrics and spans through the StorageManager's providers (it calls this with its
   * `meterProvider`/`tracerProvider`), unless the adapter was given its own: those win.
   */
  bindTelemetry(telemetry: TelemetryOptions): void {
    if (this.#closing) return;
    if (telemetry.meterProvider !== undefined && !this.#explicitTelemetry.meter) {
      this.#explicitTelemetry.meter = true;
      this.#metrics.rebind({ meterProvider: telemetry.meterProvider });
    }
    if (telemetry.tracerProvider !== undefined && !this.#explicitTelemetry.tracer) {
      this.#explicitTelemetry.tracer = true;
      this.#tracing = new TracerBinding(REDIS_SCOPE, { tracerProvider: telemetry.tracerProvider });
    }
  }

  /** The breaker state (`closed` when Redis is healthy). */
  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /** Which XXH3 this adapter hashes with: the native addon, or the WebAssembly fallback (undefined until it has compiled). */
  get hashImplementation(): Xxh3Hasher['implementation'] | undefined {
    return this.#hasher?.implementation;
  }

  /**
   * How loads read values: `direct` (a connection of the adapter's own, payloads read straight
   * into the targets) or `ioredis`, with the reason (cluster, TLS, …). For diagnostics and tests.
   */
  get loadPath(): { path: 'direct' } | { path: 'ioredis'; reason: string } {
    return this.#direct ? { path: 'direct' } : { path: 'ioredis', reason: this.#loadPathReason ?? '' };
  }

  /** The Redis key that holds `key` (for diagnostics and tests). */
  redisKey(key: ObjectKey): string {
    return redisKeyOf(this.#o.keyPrefix, key);
  }

  /** The ioredis client (for diagnostics; do not close it). */
  get client(): Redis | Cluster {
    return this.#client;
  }

  /**
   * Resolves true once connected, false after `timeoutMs` (never rejects). Optional: operations
   * issued before the connection is up are misses / dropped stores, not errors.
   */
  ready(timeoutMs: number = this.#o.connectTimeoutMs): Promise<boolean> {
    return whenReady(this.#client, timeoutMs);
  }

  async store(items: readonly L2StoreItem[]): Promise<boolean[]> {
    this.#assertOpen('store');
    const results = new Array<boolean>(items.length).fill(false);
    if (items.length === 0) return results;
    return this.#calls.run(
      'store',
      () => {
        this.#metrics.droppedStores.breaker_open += items.length;
        return results;
      },
      async () => {
        const ctx = {
          trips: this.#trips,
          hasher: this.#hasher ?? (await this.#hasherReady),
          checksum: this.#o.checksum,
          ttlSeconds: this.#o.ttlSeconds,
          clientKeyPrefix: this.#client.options.keyPrefix,
          isCluster: this.#isCluster,
        };
        const encoded = items.map((i) => encodeKey(i.key));
        const rkeys = items.map((i, n) => redisKeyOf(this.#o.keyPrefix, i.key, encoded[n]));
        let failure: Error | undefined;
        for (const [start, end] of groups(items.map((i) => i.data.byteLength), this.#o.maxPipelineBytes)) {
          if (failure) break; // Redis just failed: drop the rest rather than wait for more deadlines.
          const outcomes = await storeGroup(ctx, items.slice(start, end), encoded.slice(start, end), rkeys.slice(start, end));
          outcomes.forEach((previous, j) => {
            if (previous instanceof Error) {
              if (isTransportError(previous)) failure ??= previous;
              return;
            }
            results[start + j] = true;
            this.#usedBytes += VALUE_HEADER_BYTES + items[start + j]!.data.byteLength - previous;
            if (previous === 0) this.#objects++;
          });
        }
        const dropped = results.reduce((n, ok) => (ok ? n : n + 1), 0);
        this.#metrics.droppedStores.error += dropped;
        return { value: results, failure };
      },
    );
  }

  async lookupAndLock(keys: readonly ObjectKey[]): Promise<boolean[]> {
    this.#assertOpen('lookupAndLock');
    const results = new Array<boolean>(keys.length).fill(false);
    if (keys.length === 0) return results;
    return this.#calls.run(
      'lookup',
      () => results,
      async () => {
        const ttl = this.#o.ttlSeconds;
        const rkeys = keys.map((k) => redisKeyOf(this.#o.keyPrefix, k));
        // TOUCH / EXPIRE answer "exists" like EXISTS and also refresh the LRU clock / TTL, the
        // closest a shared Redis gets to pinning the key until the following load.
        const replies = await this.#trips.run(ttl > 0 ? 'EXPIRE' : 'TOUCH', keys.length, (c, i) =>
          ttl > 0 ? c.expire(rkeys[i]!, ttl) : c.touch(rkeys[i]!),
        );
        let failure: Error | undefined;
        replies.forEach(([err, value], i) => {
          if (err) {
            if (isTransportError(err)) failure ??= err;
            return;
          }
          if (Number(value) >= 1) {
            results[i] = true;
            this.#pins.set(rkeys[i]!, (this.#pins.get(rkeys[i]!) ?? 0) + 1);
          }
        });
        return { value: results, failure };
      },
    );
  }

  async load(keys: readonly ObjectKey[], targets: readonly Uint8Array[], layout?: MemoryLayout): Promise<boolean[]> {
    const layoutCrc = layout === undefined ? undefined : layoutChecksumOf(layout);
    this.#assertOpen('load');
    if (keys.length !== targets.length) {
      throw new InvalidArgumentError('targets', `expected one target per key (${keys.length}), got ${targets.length}`);
    }
    const results = new Array<boolean>(keys.length).fill(false);
    if (keys.length === 0) return results;
    return this.#calls.run(
      'load',
      () => results,
      async () => {
        const hasher = this.#hasher ?? (await this.#hasherReady);
        const encoded = keys.map((k) => encodeKey(k));
        const rkeys = keys.map((k, i) => redisKeyOf(this.#o.keyPrefix, k, encoded[i]));
        const keyCrcs = encoded.map(keyChecksum);
        let failure: Error | undefined;
        const broken: string[] = [];
        for (const [start, end] of groups(targets.map((t) => t.byteLength), this.#o.maxPipelineBytes)) {
          if (failure) break; // Redis just failed: the rest are misses.
          const outcomes = await loadGroup(this.#trips, hasher, rkeys.slice(start, end), keyCrcs.slice(start, end), targets.slice(start, end), layoutCrc, this.#direct);
          outcomes.forEach((outcome, j) => {
            if (outcome === 'ok') results[start + j] = true;
            else if (outcome instanceof Error) {
              if (isTransportError(outcome)) failure ??= outcome;
            } else if (outcome !== 'absent') {
              this.#metrics.corrupt[outcome]++;
              log('load %s: %s value treated as a miss', rkeys[start + j], outcome);
              // A damaged value is removed (even if pinned: no load can succeed on it) so it is
              // not read and counted again; an intact value of another size is left alone.
              if (outcome !== 'size_mismatch' && outcome !== 'layout_mismatch') broken.push(rkeys[start + j]!);
            }
          });
        }
        if (broken.length > 0 && !failure) await this.#unlink(broken);
        return { value: results, failure };
      },
    );
  }

  async unlock(keys: readonly ObjectKey[]): Promise<void> {
    this.#assertOpen('unlock');
    for (const key of keys) {
      const rkey = redisKeyOf(this.#o.keyPrefix, key);
      const n = this.#pins.get(rkey);
      if (n === undefined) continue;
      if (n <= 1) this.#pins.delete(rkey);
      else this.#pins.set(rkey, n - 1);
    }
  }

  /**
   * Deletes the keys. A key this adapter holds a lookup lock on is kept (result false) until it is
   * unlocked. Rejects with UnavailableError when Redis is down: a delete that did not happen must
   * not look like one that did.
   */
  async delete(keys: readonly ObjectKey[]): Promise<boolean[]> {
    this.#assertOpen('delete');
    const results = new Array<boolean>(keys.length).fill(false);
    if (keys.length === 0) return results;
    return this.#calls.run(
      'delete',
      () => {
        throw new UnavailableError('Redis L2 is unavailable (circuit breaker open); the keys were not deleted. Retry later.');
      },
      async () => {
        const rkeys = keys.map((k) => redisKeyOf(this.#o.keyPrefix, k));
        const todo = rkeys.map((_, i) => i).filter((i) => !this.#pins.has(rkeys[i]!));
        if (todo.length === 0) return { value: results };
        let failure: Error | undefined;
        (await this.#unlink(todo.map((i) => rkeys[i]!))).forEach((outcome, j) => {
          if (outcome instanceof Error) failure ??= outcome;
          else results[todo[j]!] = outcome;
        });
        if (failure && isTransportError(failure)) {
          throw new UnavailableError(`Redis L2 delete failed: ${failure.message}`, { cause: failure });
        }
        return { value: results };
      },
    );
  }

  /**
   * Removes every unpinned object under this adapter's `keyPrefix` (SCAN + UNLINK on every master;
   * other deployments' keys are untouched) and resolves with how many were removed.
   */
  async clear(): Promise<number> {
    this.#assertOpen('clear');
    return this.#calls.run(
      'delete',
      () => {
        throw new UnavailableError('Redis L2 is unavailable (circuit breaker open); nothing was cleared. Retry later.');
      },
      async () => {
        let removed = 0;
        for (const node of masterNodes(this.#client, this.#isCluster)) {
          for await (const page of scanPrefix(node, this.#o.keyPrefix, this.#o.operationTimeoutMs, this.#metrics)) {
            const todo = page.filter((k) => !this.#pins.has(k));
            if (todo.length === 0) continue;
            for (const outcome of await this.#unlink(todo, node)) {
              if (outcome instanceof Error && isTransportError(outcome)) throw new UnavailableError(`Redis L2 clear failed: ${outcome.message}`, { cause: outcome });
              if (outcome === true) removed++;
            }
          }
        }
        return { value: removed };
      },
    );
  }

  /**
   * Value bytes (header included) and objects this adapter instance added to Redis minus those it
   * replaced or removed: exact for its own writes (each SET and UNLINK is paired with a STRLEN in
   * the same round trip), blind to Redis-side expiry and eviction and to other writers sharing the
   * prefix. `capacityBytes` is undefined: Redis enforces its own `maxmemory`.
   */
  usage(): L2Usage {
    return { usedBytes: this.#usedBytes, capacityBytes: undefined, objects: this.#objects };
  }

  /** Waits up to `closeTimeoutMs` for in-flight calls, then disconnects (never waits on QUIT). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await this.#calls.settled(this.#o.closeTimeoutMs);
    this.#direct?.close();
    if (this.#owned) this.#client.disconnect();
    this.#metrics.close();
    this.#pins.clear();
  }

  #assertOpen(operation: string): void {
    if (this.#closing) throw new ClosedError('RedisL2Adapter', operation);
  }

  #forget(objects: number, bytes: number): void {
    this.#objects = Math.max(0, this.#objects - objects);
    this.#usedBytes = Math.max(0, this.#usedBytes - bytes);
  }

  /**
   * UNLINKs `rkeys` in one round trip, each paired with a STRLEN so usage() stays exact, and
   * forgets what was removed. Per key: true removed, false absent, or that command's error.
   */
  async #unlink(rkeys: readonly string[], node?: Redis): Promise<(boolean | Error)[]> {
    const replies = await this.#trips.run('UNLINK', rkeys.length, (c, j) => c.unlink(rkeys[j]!), {
      before: (c, j) => c.strlen(rkeys[j]!),
      ...(node ? { node } : {}),
    });
    return rkeys.map((_, j) => {
      const [lenErr, length] = replies[2 * j]!;
      const [err, value] = replies[2 * j + 1]!;
      if (err) return err;
      if (Number(value) < 1) return false;
      this.#forget(1, lenErr ? 0 : Number(length));
      return true;
    });
  }

  #onTransition(to: BreakerState): void {
    this.#metrics.transitions[to]++;
    log('circuit breaker → %s', to);
  }
}
