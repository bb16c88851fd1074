import { MAX_CACHE_SALT_LENGTH, MAX_MODEL_NAME_LENGTH, curveServerOptions } from '@tierkv/core';
import type { Router } from 'zeromq';
import type { ResolvedTierkvServerOptions } from './server-options.js';

/**
 * Bytes of one encoded key at most: `<16 hex>:<rank ≤ 10 digits>:<length ≤ 4 digits>:<model><salt>`,
 * as UTF-8 (≤ 3 bytes per UTF-16 unit) plus its msgpack string header.
 */
const MAX_KEY_BYTES = 3 * (16 + 1 + 10 + 1 + 4 + 1 + MAX_MODEL_NAME_LENGTH + MAX_CACHE_SALT_LENGTH) + 5;
/** Everything in a header besides its keys or tokens: type, layout id (≤ 4096), scope, numbers. */
const HEADER_FIELDS_BYTES = 64 * 1024;

/**
 * Largest request header frame validation can accept: `maxKeysPerRequest` keys of the longest legal
 * encoding, or `maxKeysPerRequest × chunkSize` token ids (5 bytes each as msgpack) plus a scope.
 */
export function maxHeaderBytes(o: Pick<ResolvedTierkvServerOptions, 'maxKeysPerRequest' | 'chunkSize'>): number {
  const keys = o.maxKeysPerRequest * MAX_KEY_BYTES;
  const tokens = o.maxKeysPerRequest * o.chunkSize * 5 + 3 * (MAX_MODEL_NAME_LENGTH + MAX_CACHE_SALT_LENGTH);
  return Math.max(keys, tokens) + HEADER_FIELDS_BYTES;
}

/**
 * The largest frame a peer may announce on the request socket (ZMQ_MAXMSGSIZE, checked by libzmq
 * per frame): a chunk frame is at most `maxPayloadBytes` (the whole request is), a header at most
 * maxHeaderBytes(). Up to their sum an oversized request is still answered TOO_LARGE; beyond it
 * libzmq drops the connection before buffering the frame, so a stalled peer pins at most this much.
 */
export function maxRequestFrameBytes(o: Pick<ResolvedTierkvServerOptions, 'maxPayloadBytes' | 'maxKeysPerRequest' | 'chunkSize'>): number {
  return Math.min(o.maxPayloadBytes + maxHeaderBytes(o), Number.MAX_SAFE_INTEGER);
}

/**
 * Options of the server's ROUTER socket: bounds and, with an authToken, CURVE.
 * The send high-water mark is small on purpose: it counts messages, not bytes, so the bytes libzmq
 * holds per client are at most (sendHighWaterMark + 1) × the largest reply; replies beyond it wait
 * in the server's byte-counted ReplyQueue.
 */
export function serverSocketOptions(o: ResolvedTierkvServerOptions): ConstructorParameters<typeof Router>[0] {
  return {
    mandatory: true,
    // A client reconnecting with its identity takes its session (and locks) over.
    handover: true,
    sendTimeout: 0,
    sendHighWaterMark: o.sendHighWaterMark,
    maxMessageSize: maxRequestFrameBytes(o),
    linger: 2_000,
    // Wakes a receive that missed ZeroMQ's edge-triggered readiness under load (seen in the
    // controller: a loop parked with messages queued); idle, it is an EAGAIN and the loop waits again.
    receiveTimeout: 500,
    // With a token the socket speaks CURVE with a key pair derived from it: a peer without the token
    // cannot complete the handshake (counted as connections.closed{handshake_failed}), so nothing it
    // sends is read.
    ...(o.authToken === undefined ? {} : curveServerOptions(o.authToken, 'tierkv-server', 'server.authToken')),
  };
}
