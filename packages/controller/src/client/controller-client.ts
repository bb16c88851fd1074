import { ConfigError, ProtocolError, checkAuthToken, refuseUnknownOptions } from '@tierkv/core';
import type { LookupInput } from '../controller/lookup-query.js';
import { hashBytes } from '../pool/chunk-hash.js';
import { decodeReply, encodeMessage } from '../protocol/codec.js';
import type { ControllerMsg, LookupHolder, ReplyMsg, ScoreMsg, ScoreReply, WireScope, WorkerInfo } from '../protocol/messages.js';
import { QUERY_SCHEME, queryEndpointAddress } from '../protocol/query-stream.js';
import { RequestChannel } from '../protocol/request-channel.js';
import { TcpQueryChannel } from './tcp-query-channel.js';

export interface ControllerClientOptions {
  /** The controller's ROUTER endpoint (ZeroMQ), e.g. `tcp://127.0.0.1:9301`. Give this or `query`. */
  router?: string;
  /**
   * The controller's plain-TCP query listener (its `queryPort`), e.g. `tierkv+tcp://127.0.0.1:9303`:
   * the fastest round trip for `lookup`, `score` and `workers`, without authentication.
   * `CacheController.addresses.query` gives it. Give this or `router`.
   */
  query?: string;
  /** Deadline per request; the socket is recreated after one passes. @default 3_000 */
  timeoutMs?: number;
  /** The controller's `authToken`, when it has one (its sockets then speak CURVE; `router` only). */
  authToken?: string;
}

/** What carries one encoded request to the controller and brings its reply back. */
interface Channel {
  request(payload: Buffer): Promise<Buffer>;
  close(): void;
}

/**
 * Asks a controller which workers hold a prefix (what a KV-aware router needs), over its ROUTER
 * (ZeroMQ) or its plain-TCP query listener.
 */
export class ControllerClient {
  readonly #channel: Channel;

  constructor(options: ControllerClientOptions) {
    this.#channel = openChannel(options);
  }

  /**
   * Holders of the longest prefixes of `hashes` or `tokens`, longest first. Hashes are 16-hex-char
   * chunk hashes, or binary: a `Uint8Array` of 8 big-endian bytes per hash (sent as it is, the
   * cheapest form) or a `BigUint64Array`. A malformed hash throws InvalidArgumentError before
   * anything is sent.
   */
  async lookup(input: LookupInput, scope: Partial<WireScope> & { modelName: string }): Promise<LookupHolder[]> {
    const s: WireScope = { modelName: scope.modelName, kvRank: scope.kvRank ?? 0, cacheSalt: scope.cacheSalt ?? '' };
    const msg: ControllerMsg = input.tokens !== undefined ? { t: 'lookup', scope: s, tokens: input.tokens } : { t: 'lookup', scope: s, hashes: hashBytes(input.hashes) };
    const reply = await this.#request(msg);
    if (reply.t !== 'lookup_ok') throw new ProtocolError(`unexpected reply ${reply.t} to lookup`);
    return [...reply.holders];
  }

  /** Scores the vLLM publishers the controller follows by the longest prefix they hold (docs/vllm.md). */
  async score(request: Omit<ScoreMsg, 't'>): Promise<ScoreReply['workers']> {
    const reply = await this.#request({ t: 'score', ...request });
    if (reply.t !== 'score_ok') throw new ProtocolError(`unexpected reply ${reply.t} to score`);
    return reply.workers;
  }

  async workers(): Promise<WorkerInfo[]> {
    const reply = await this.#request({ t: 'query_workers' });
    if (reply.t !== 'workers_ok') throw new ProtocolError(`unexpected reply ${reply.t} to query_workers`);
    return [...reply.workers];
  }

  async #request(msg: ControllerMsg): Promise<ReplyMsg> {
    const d = decodeReply(await this.#channel.request(encodeMessage(msg)));
    if (!d.ok) throw new ProtocolError(`invalid reply from the controller: ${d.detail}`);
    if (d.msg.t === 'error') throw new ProtocolError(`controller refused ${msg.t}: ${d.msg.message}`);
    return d.msg;
  }

  close(): void {
    this.#channel.close();
  }
}

function openChannel(options: ControllerClientOptions): Channel {
  const usage = "expected { router: 'tcp://host:9301' } (the controller's ROUTER) or { query: 'tierkv+tcp://host:port' } (its query listener)";
  if (options === null || typeof options !== 'object') throw new ConfigError('controllerClient', usage);
  refuseUnknownOptions(options, ['router', 'query', 'timeoutMs', 'authToken'], 'controllerClient');
  const { router, query } = options;
  if ((router === undefined) === (query === undefined)) throw new ConfigError('controllerClient.router', `${usage}: exactly one of them`);
  const timeoutMs = options.timeoutMs ?? 3_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigError('controllerClient.timeoutMs', `expected a positive number of milliseconds, got ${String(timeoutMs)}`);
  const authToken = checkAuthToken(options.authToken, 'controllerClient.authToken');
  if (router !== undefined) {
    if (typeof router !== 'string' || router.startsWith(`${QUERY_SCHEME}:`)) throw new ConfigError('controllerClient.router', `expected a ZeroMQ endpoint such as 'tcp://host:9301', got ${JSON.stringify(router)}; a ${QUERY_SCHEME}:// endpoint goes in \`query\``);
    return new RequestChannel(router, timeoutMs, undefined, authToken);
  }
  const address = typeof query === 'string' ? queryEndpointAddress(query) : undefined;
  if (!address) throw new ConfigError('controllerClient.query', `expected '${QUERY_SCHEME}://host:port', got ${JSON.stringify(query)}`);
  if (authToken !== undefined) throw new ConfigError('controllerClient.authToken', 'the plain-TCP query listener has no authentication; a controller with an authToken is reached through `router`');
  return new TcpQueryChannel(query!, address, timeoutMs, 'controllerClient.timeoutMs');
}
