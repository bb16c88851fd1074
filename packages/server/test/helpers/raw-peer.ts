import { connect, type Socket } from 'node:net';
import { Dealer } from 'zeromq';
import { encodeFrameTable, encodeHello } from '../../src/protocol/stream-envelope.js';
import { FrameReader } from '../../src/protocol/stream-framing.js';
import { tcpEndpointAddress } from '../../src/client/tcp-client-transport.js';

/** The transports a server test runs over. */
export const TRANSPORTS = ['zeromq', 'tcp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** A peer that speaks (or breaks) the protocol by hand, over the transport the endpoint names. */
export interface RawPeer {
  send(frames: readonly Uint8Array[]): Promise<void>;
  /** The next message (without ZeroMQ's identity); rejects after `timeoutMs`. */
  receive(timeoutMs?: number): Promise<Buffer[]>;
  /** Stops reading (TCP: the socket; ZeroMQ peers get small buffers at creation instead). */
  pause(): void;
  resume(): void;
  /** Raw bytes on the TCP stream (ZeroMQ: not supported). */
  writeRaw(bytes: Uint8Array): void;
  close(): void;
}

export interface RawPeerOptions {
  clientId?: string;
  /** ZeroMQ: a DEALER that holds at most one message and a 16 KiB kernel buffer (a slow reader). */
  slow?: boolean;
  /** TCP: do not send the hello. */
  noHello?: boolean;
}

export function rawPeer(endpoint: string, options: RawPeerOptions = {}): RawPeer {
  const tcp = tcpEndpointAddress(endpoint);
  return tcp ? new TcpRawPeer(tcp, options) : new ZmqRawPeer(endpoint, options);
}

class ZmqRawPeer implements RawPeer {
  readonly #d: Dealer;
  constructor(endpoint: string, o: RawPeerOptions) {
    this.#d = new Dealer({
      linger: 0,
      ...(o.clientId ? { routingId: o.clientId } : {}),
      ...(o.slow ? { receiveHighWaterMark: 1, receiveBufferSize: 16 * 1024 } : {}),
    });
    this.#d.connect(endpoint);
  }
  async send(frames: readonly Uint8Array[]): Promise<void> {
    await this.#d.send(frames as Uint8Array[]);
  }
  async receive(timeoutMs = 3_000): Promise<Buffer[]> {
    this.#d.receiveTimeout = timeoutMs;
    return this.#d.receive();
  }
  pause(): void {}
  resume(): void {}
  writeRaw(): void {
    throw new Error('raw bytes are a TCP-only test');
  }
  close(): void {
    this.#d.close();
  }
}

class TcpRawPeer implements RawPeer {
  readonly #s: Socket;
  readonly #queue: Buffer[][] = [];
  readonly #waiters: ((m: Buffer[] | Error) => void)[] = [];
  #closedError: Error | undefined;
  constructor(address: { host: string; port: number }, o: RawPeerOptions) {
    const reader = new FrameReader({ maxFrames: 1 << 20, maxFrameBytes: 2 ** 31, maxMessageBytes: 2 ** 31 }, (m) => {
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    });
    this.#s = connect(address);
    // Frames leave as separate writes: without this, Nagle holds each message's tail for a delayed ACK.
    this.#s.setNoDelay(true);
    this.#s.on('data', (c: Buffer) => reader.push(c));
    this.#s.on('error', () => undefined);
    this.#s.on('close', () => {
      this.#closedError = new Error('the server closed the connection');
      for (const w of this.#waiters.splice(0)) w(this.#closedError);
    });
    if (!o.noHello) this.#s.write(encodeHello(o.clientId ?? `raw-${Math.random().toString(16).slice(2)}`));
  }
  async send(frames: readonly Uint8Array[]): Promise<void> {
    this.#s.write(encodeFrameTable(frames));
    for (const f of frames) this.#s.write(f);
  }
  receive(timeoutMs = 3_000): Promise<Buffer[]> {
    const m = this.#queue.shift();
    if (m) return Promise.resolve(m);
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push((msg) => {
        clearTimeout(timer);
        if (msg instanceof Error) reject(msg);
        else resolve(msg);
      });
    });
  }
  pause(): void {
    this.#s.pause();
  }
  resume(): void {
    this.#s.resume();
  }
  writeRaw(bytes: Uint8Array): void {
    this.#s.write(bytes);
  }
  get closed(): boolean {
    return this.#closedError !== undefined;
  }
  close(): void {
    this.#s.destroy();
  }
}
