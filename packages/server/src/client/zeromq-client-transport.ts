import type { CurveClientSocketOptions } from '@tierkv/core';
import { Dealer } from 'zeromq';
import type { ClientTransport, ClientTransportEvents } from './client-transport.js';
import type { ResolvedTierkvClientOptions } from './client-options.js';

/**
 * A DEALER socket to the server's ROUTER, with the client id as its routing id (a reconnect with
 * the same id keeps the server-side session). libzmq reconnects by itself.
 */
export class ZeromqClientTransport implements ClientTransport {
  readonly #socket: Dealer;
  #sendChain: Promise<unknown> = Promise.resolve();

  /** `curve`: the CURVE options when the server wants a token (one key pair for the client's life). */
  constructor(o: ResolvedTierkvClientOptions, curve: CurveClientSocketOptions | Record<string, never>, events: ClientTransportEvents) {
    this.#socket = new Dealer({
      routingId: o.clientId,
      linger: 0,
      sendHighWaterMark: o.sendHighWaterMark,
      // Wakes a receive that missed ZeroMQ's edge-triggered readiness under load; idle, an EAGAIN.
      receiveTimeout: 500,
      ...curve,
    });
    this.#socket.connect(o.endpoint);
    void this.#receiveLoop(events);
  }

  send(frames: readonly Uint8Array[], done: (err?: Error) => void): void {
    const socket = this.#socket;
    // zeromq allows one pending send per socket: chain them.
    this.#sendChain = this.#sendChain.then(() =>
      socket.send(frames as Uint8Array[]).then(
        () => done(),
        (err: Error) => {
          if (!socket.closed) done(err);
        },
      ),
    );
  }

  close(): void {
    this.#socket.close();
  }

  async #receiveLoop(events: ClientTransportEvents): Promise<void> {
    const socket = this.#socket;
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch {
        if (socket.closed) return;
        continue;
      }
      events.reply(frames);
    }
  }
}
