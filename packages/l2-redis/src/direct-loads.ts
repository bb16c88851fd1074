import { TimeoutError, UnavailableError } from '@tierkv/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { LoadConnection, type LoadEndpoint, type PendingBatch } from './load-connection.js';
import { LoadReply, type LoadOutcome, type LoadReplyCheck } from './load-reply.js';
import type { ResolvedRedisL2Options } from './redis-options.js';

/**
 * Where the direct load path can reach the adapter's Redis, or why it cannot (then loads take the
 * ioredis path). It serves the adapter's own single-node client over plain TCP or a Unix socket,
 * with ioredis' AUTH (password, or ACL user and password), `db` and `keyPrefix`; not a client
 * given in `client`, a cluster, TLS, Sentinel or a custom ioredis Connector.
 */
export function directLoadEndpoint(o: ResolvedRedisL2Options, client: Redis | Cluster, isCluster: boolean): LoadEndpoint | string {
  if (!o.directLoad) return 'directLoad: false';
  if (o.client) return 'a client of your own (client)';
  if (isCluster) return 'a cluster';
  const c: Partial<RedisOptions> = (client as Redis).options ?? {};
  if (c.tls) return 'TLS';
  if (c.sentinels) return 'Sentinel';
  if (c.Connector) return 'a custom Connector';
  if (c.keyPrefix !== undefined && typeof c.keyPrefix !== 'string') return 'a keyPrefix that is not a string';
  const db = Number(c.db ?? 0);
  if (!Number.isInteger(db) || db < 0) return `db ${String(c.db)}`;
  return {
    host: c.host ?? 'localhost',
    port: Number(c.port ?? 6379),
    path: c.path || undefined,
    family: c.family || undefined,
    // As ioredis does: AUTH user password when a user is named, AUTH password when only that is set.
    username: c.username || undefined,
    password: c.username ? (c.password ?? '') : c.password || undefined,
    db,
    keyPrefix: c.keyPrefix ?? '',
  };
}

/**
 * The direct load path: GETs on a connection of the adapter's own (LoadConnection, opened on first
 * use and again after any failure), each value verified into its target by a LoadReply.
 */
export class DirectLoads {
  readonly #endpoint: LoadEndpoint;
  readonly #timeoutMs: number;
  #connection: LoadConnection | undefined;
  #closed = false;

  constructor(endpoint: LoadEndpoint, timeoutMs: number) {
    this.#endpoint = endpoint;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * GETs `rkeys` in one round trip, verifying each value into `checks[i].target`; resolves with an
   * outcome per key (never rejects); keys without a verdict at the deadline, or when the connection
   * fails, get the error. Nothing is written into a target after the call settled: a reply begun
   * by then has its socket destroyed first, one not begun is dropped when it comes.
   */
  load(rkeys: readonly string[], checks: readonly LoadReplyCheck[]): Promise<LoadOutcome[]> {
    const outcomes = new Array<LoadOutcome | undefined>(rkeys.length);
    if (this.#closed) return Promise.resolve(outcomes.fill(new UnavailableError('the Redis load path is closed')) as LoadOutcome[]);
    if (!this.#connection?.usable) this.#connection = new LoadConnection(this.#endpoint);
    const connection = this.#connection;
    return new Promise((resolve) => {
      let left = rkeys.length;
      let settled = false;
      const finish = (): void => {
        settled = true;
        clearTimeout(timer);
        connection.done(batch);
        resolve(outcomes as LoadOutcome[]);
      };
      const replies = checks.map(
        (check, j) =>
          new LoadReply(check, (outcome) => {
            outcomes[j] = outcome;
            if (--left === 0) finish();
          }),
      );
      const batch: PendingBatch = {
        fail: (err) => {
          if (settled) return;
          for (const r of replies) r.abandon();
          for (let j = 0; j < outcomes.length; j++) outcomes[j] ??= err;
          finish();
        },
      };
      const timer = setTimeout(() => {
        const late = new TimeoutError(`Redis GET x${rkeys.length}`, this.#timeoutMs, 'redis.operationTimeoutMs');
        // Once the reader has reached one of this call's replies, a read may be landing in one
        // of its targets: only destroying the socket stops that, and it fails the batches still
        // waiting on it too. Before that, the replies are dropped when they come.
        if (replies.some((r) => r.started)) connection.destroy(late);
        else batch.fail(late);
      }, this.#timeoutMs);
      connection.get(rkeys, replies, batch);
    });
  }

  /** Closes the connection; later loads fail at once. */
  close(): void {
    this.#closed = true;
    this.#connection?.destroy(new UnavailableError('the Redis L2 adapter was closed'));
    this.#connection = undefined;
  }
}
