import { ConfigError, ProtocolError, checkAuthToken, refuseUnknownOptions } from '@tierkv/core';
import type { LookupInput } from '../controller/lookup-query.js';
import { hashBytes } from '../pool/chunk-hash.js';
import { decodeReply, encodeMessage } from '../protocol/codec.js';
import type { ControllerMsg, LookupHolder, ReplyMsg, ScoreMsg, ScoreReply, WireScope, WorkerInfo } from '../protocol/messages.js';
import { RequestChannel } from '../protocol/request-channel.js';

export interface ControllerClientOptions {
  /** The controller's ROUTER endpoint, e.g. `tcp://127.0.0.1:9301`. */
  router: string;
  /** Deadline per request; the socket is recreated after one passes. @default 3_000 */
  timeoutMs?: number;
  /** The controller's `authToken`, when it has one (its sockets then speak CURVE). */
  authToken?: string;
}

/** Asks a controller over ZeroMQ which workers hold a prefix (what a KV-aware router needs). */
export class ControllerClient {
  readonly #channel: RequestChannel;

  constructor(options: ControllerClientOptions) {
    if (options === null || typeof options !== 'object' || typeof options.router !== 'string') {
      throw new ConfigError('controllerClient.router', "expected { router: 'tcp://host:9301' }, the controller's ROUTER endpoint");
    }
    refuseUnknownOptions(options, ['router', 'timeoutMs', 'authToken'], 'controllerClient');
    this.#channel = new RequestChannel(options.router, options.timeoutMs ?? 3_000, undefined, checkAuthToken(options.authToken, 'controllerClient.authToken'));
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
