import { ConfigError, MemoryLayout, checkAuthToken, refuseUnknownOptions, type TelemetryOptions } from '@tierkv/core';
import { DURABILITIES, type Durability } from '../protocol/messages.js';
import { randomBytes } from 'node:crypto';

export interface TierkvClientOptions extends TelemetryOptions {
  /**
   * The server's endpoint; its scheme picks the transport: `tcp://host:port` (also `ipc://`,
   * `inproc://`) ZeroMQ, `tierkv+tcp://host:port` plain TCP (a server with `transport: 'tcp'`).
   * `TierkvServer.endpoint` gives the right one. @default 'tcp://127.0.0.1:5555'
   */
  endpoint?: string;
  /** Deadline of each call unless the call gives its own `timeoutMs`; the server gets it too. @default 10_000 */
  timeoutMs?: number;
  /** Layout used by store/retrieve/lookup calls that do not name one. */
  layout?: MemoryLayout;
  /** Recreate the socket after a call times out (drops requests queued for a dead peer). @default true */
  reconnectOnTimeout?: boolean;
  /**
   * This client's identity on the server (its routing id, 1-255 bytes, unique per client: a second
   * client with the same id takes the connection over). The server tracks locks
   * per identity and a reconnect keeps it. @default random
   */
  clientId?: string;
  /** Requests queued towards the server before sends wait (ZeroMQ send high-water mark; ZeroMQ only). @default 1_000 */
  sendHighWaterMark?: number;
  /**
   * Largest reply (all frames) the client reads over `tierkv+tcp://`; a server announcing more is
   * disconnected before a byte of it is buffered. At least the server's `maxPayloadBytes` plus its
   * largest reply header. @default 512 MiB
   */
  maxReplyBytes?: number;
  /** The server's `authToken`, when it has one (the connection then speaks CURVE; ZeroMQ only). */
  authToken?: string;
  /**
   * What `store` acknowledgements wait for unless a call says: `memory` (in the server's L1) or `l2`
   * (every L2 tier stored the chunks). @default unset: the server's `durability` option
   */
  durability?: Durability;
}

export interface ResolvedTierkvClientOptions {
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly layout: MemoryLayout | undefined;
  readonly reconnectOnTimeout: boolean;
  readonly clientId: string;
  readonly sendHighWaterMark: number;
  readonly maxReplyBytes: number;
  readonly authToken: string | undefined;
  readonly durability: Durability | undefined;
}

export const DEFAULT_CLIENT_OPTIONS = Object.freeze({
  endpoint: 'tcp://127.0.0.1:5555',
  timeoutMs: 10_000,
  reconnectOnTimeout: true,
  sendHighWaterMark: 1_000,
  maxReplyBytes: 512 * 1024 * 1024,
});

/** Checks a durability given to the client or to one call; `field` names it in the error. */
export function checkDurability(value: unknown, field: string, error: (field: string, message: string) => Error): Durability | undefined {
  if (value === undefined) return undefined;
  if (!DURABILITIES.includes(value as Durability)) throw error(field, `expected ${DURABILITIES.map((d) => `'${d}'`).join(' or ')}, got ${JSON.stringify(value)}`);
  return value as Durability;
}

export function resolveClientOptions(options: TierkvClientOptions): ResolvedTierkvClientOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError('client', 'expected an options object such as { endpoint: "tcp://127.0.0.1:5555" }');
  const d = DEFAULT_CLIENT_OPTIONS;
  const r: ResolvedTierkvClientOptions = {
    endpoint: options.endpoint ?? d.endpoint,
    timeoutMs: options.timeoutMs ?? d.timeoutMs,
    layout: options.layout,
    reconnectOnTimeout: options.reconnectOnTimeout ?? d.reconnectOnTimeout,
    // A printable prefix keeps the id off binary zero, which ZeroMQ reserves.
    clientId: options.clientId ?? `tkv-${randomBytes(8).toString('hex')}`,
    sendHighWaterMark: options.sendHighWaterMark ?? d.sendHighWaterMark,
    maxReplyBytes: options.maxReplyBytes ?? d.maxReplyBytes,
    authToken: checkAuthToken(options.authToken, 'client.authToken'),
    durability: checkDurability(options.durability, 'client.durability', (f, m) => new ConfigError(f, m)),
  };
  refuseUnknownOptions(options, [...Object.keys(r), 'meterProvider', 'tracerProvider'], 'client');
  if (typeof r.endpoint !== 'string' || !/^(tcp|ipc|inproc|tierkv\+tcp):\/\/.+/.test(r.endpoint)) {
    throw new ConfigError('client.endpoint', `expected a ZeroMQ endpoint such as tcp://127.0.0.1:5555 or a plain TCP one such as tierkv+tcp://127.0.0.1:5555, got ${JSON.stringify(r.endpoint)}`);
  }
  if (r.endpoint.startsWith('tierkv+tcp://')) {
    if (!/^tierkv\+tcp:\/\/(\[[^\]]+\]|[^:/]+):([1-9]\d{0,4})$/.test(r.endpoint) || Number(r.endpoint.slice(r.endpoint.lastIndexOf(':') + 1)) > 65535) {
      throw new ConfigError('client.endpoint', `expected tierkv+tcp://<host>:<port> (IPv6 hosts in brackets), got ${JSON.stringify(r.endpoint)}`);
    }
    if (r.authToken !== undefined) {
      throw new ConfigError('client.authToken', 'a tierkv+tcp:// server takes no authToken (plain TCP has no CURVE); connect to a ZeroMQ (tcp://) server for authentication, see docs/security.md');
    }
  }
  if (!Number.isSafeInteger(r.maxReplyBytes) || r.maxReplyBytes <= 0) throw new ConfigError('client.maxReplyBytes', `expected a positive integer, got ${String(r.maxReplyBytes)}`);
  if (!Number.isSafeInteger(r.timeoutMs) || r.timeoutMs <= 0) throw new ConfigError('client.timeoutMs', `expected a positive integer, got ${String(r.timeoutMs)}`);
  if (!Number.isSafeInteger(r.sendHighWaterMark) || r.sendHighWaterMark < 0) {
    throw new ConfigError('client.sendHighWaterMark', `expected an integer ≥ 0, got ${String(r.sendHighWaterMark)}`);
  }
  if (typeof r.clientId !== 'string' || r.clientId.length === 0 || Buffer.byteLength(r.clientId) > 255 || r.clientId.charCodeAt(0) === 0) {
    throw new ConfigError('client.clientId', 'expected 1-255 bytes not starting with a zero byte');
  }
  if (r.layout !== undefined && !(r.layout instanceof MemoryLayout)) throw new ConfigError('client.layout', 'expected a MemoryLayout');
  return r;
}
