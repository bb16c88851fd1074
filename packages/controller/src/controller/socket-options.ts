import type * as zmq from 'zeromq';
import { curveServerOptions } from '@tierkv/core';
import type { ResolvedCacheControllerOptions } from './controller-options.js';
import type { ControllerStats, SocketName } from './controller-stats.js';

/**
 * Receives wake up at least this often. Under load a receive can miss ZeroMQ's edge-triggered
 * readiness signal and wait forever with messages queued (seen in the demo: the PULL socket
 * `readable` with 145 events waiting and the loop parked, so the controller never caught up with
 * L1). When the timeout fires, zeromq.js reads whatever is queued, so such a stall lasts at most
 * this long; on an idle socket it is an EAGAIN and the loop waits again.
 */
export const RECEIVE_WAKE_MS = 500;

/**
 * Options of the controller's sockets: bounds and, with an authToken, CURVE.
 * Every socket refuses frames above `maxMessageBytes` (libzmq drops such a connection before it
 * buffers the frame), so a peer that announces a huge frame and stalls pins at most that much.
 */
export function controllerSocketOptions(o: ResolvedCacheControllerOptions, socket: 'pull'): ConstructorParameters<typeof zmq.Pull>[0];
export function controllerSocketOptions(o: ResolvedCacheControllerOptions, socket: 'router' | 'heartbeat'): ConstructorParameters<typeof zmq.Router>[0];
export function controllerSocketOptions(o: ResolvedCacheControllerOptions, socket: SocketName): ConstructorParameters<typeof zmq.Router>[0] {
  // With a token every socket speaks CURVE with a key pair derived from it: a peer without the token
  // cannot complete the handshake, so no control request or event of its reaches a loop.
  const curve = o.authToken === undefined ? {} : curveServerOptions(o.authToken, 'tierkv-controller', 'controller.authToken');
  const common = { linger: 0, receiveTimeout: RECEIVE_WAKE_MS, maxMessageSize: o.maxMessageBytes, ...curve };
  if (socket === 'pull') return { ...common, receiveHighWaterMark: o.pullHighWaterMark };
  return { ...common, sendTimeout: o.sendTimeoutMs, mandatory: false };
}

/**
 * Counts the connections a socket loses, by reason. libzmq reports a peer that announced a frame
 * above the maximum message size only as a `disconnect`, like one that left.
 */
export function countConnectionLosses(sock: zmq.Socket, socket: SocketName, stats: ControllerStats): void {
  const closed = stats.connectionsClosed[socket];
  sock.events.on('disconnect', () => closed.disconnect++);
  for (const e of ['handshake:error:protocol', 'handshake:error:auth', 'handshake:error:other'] as const) {
    sock.events.on(e, () => closed.handshake_failed++);
  }
}
