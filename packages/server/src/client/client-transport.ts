import type { FrameDestination } from '../protocol/stream-framing.js';

/** What a client transport calls back. */
export interface ClientTransportEvents {
  /** Where a reply's chunk frames should be read (transports that read in place: plain TCP). */
  destination?: FrameDestination;
  /** One reply message (prelude, header, chunk frames). */
  reply(frames: Buffer[]): void;
  /** The connection broke: no reply to anything sent on it will come (plain TCP only). */
  lost(err: Error): void;
}

/** A way of carrying the client's requests: a ZeroMQ DEALER socket, or one plain TCP connection. */
export interface ClientTransport {
  /** Hands a request over; `done` runs once it was handed over (no error) or could not be. */
  send(frames: readonly Uint8Array[], done: (err?: Error) => void): void;
  close(): void;
}
