import type { FullSyncReason } from '../protocol/messages.js';

/** `query`: the optional plain-TCP query listener (`queryPort`). */
export type SocketName = 'pull' | 'router' | 'heartbeat' | 'query';
export type DropReason = 'malformed' | 'unknown_type' | 'invalid' | 'unknown_worker' | 'handler_error' | 'wrong_socket';
/** Why a socket lost a connection: see socket-options.ts (ZeroMQ) and query-listener.ts (TCP). */
export type CloseReason = 'disconnect' | 'handshake_failed';
export type SessionOutcome = 'completed' | 'failed' | 'rejected';

/** Plain counters bumped on the hot path and read by the metric callbacks at collection time. */
export class ControllerStats {
  readonly received: Record<SocketName, number> = { pull: 0, router: 0, heartbeat: 0, query: 0 };
  readonly active: Record<SocketName, number> = { pull: 0, router: 0, heartbeat: 0, query: 0 };
  readonly dropped = new Map<string, number>();
  readonly ops = { admitApplied: 0, evictApplied: 0, admitDuplicate: 0, evictDuplicate: 0, admitDeferred: 0, evictDeferred: 0 };
  /** Connections lost per socket and reason (a frame above maxMessageBytes shows as `disconnect`). */
  readonly connectionsClosed: Record<SocketName, Record<CloseReason, number>> = {
    pull: { disconnect: 0, handshake_failed: 0 },
    router: { disconnect: 0, handshake_failed: 0 },
    heartbeat: { disconnect: 0, handshake_failed: 0 },
    query: { disconnect: 0, handshake_failed: 0 },
  };
  discontinuities = 0;
  reaped = 0;
  readonly syncRequested: Record<FullSyncReason, number> = { sequence_gap: 0, registration: 0, sync_failed: 0, manual: 0 };
  readonly sessions: Record<SessionOutcome, number> = { completed: 0, failed: 0, rejected: 0 };

  drop(socket: SocketName, reason: DropReason): void {
    const k = `${socket}|${reason}`;
    this.dropped.set(k, (this.dropped.get(k) ?? 0) + 1);
  }

  droppedCount(socket?: SocketName, reason?: DropReason): number {
    let n = 0;
    for (const [k, v] of this.dropped) {
      const [s, r] = k.split('|');
      if ((socket === undefined || s === socket) && (reason === undefined || r === reason)) n += v;
    }
    return n;
  }
}
