import { connect, type Socket } from 'node:net';
import { TimeoutError, UnavailableError } from '@tierkv/core';
import { QUERY_HELLO, QueryStreamReader, queryFrameHeader } from '../protocol/query-stream.js';

/** Largest reply a client reads; a controller announcing more is disconnected before it is buffered. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

interface Waiter {
  readonly resolve: (reply: Buffer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** One connection and the request it carries (at most one at a time). */
interface Connection {
  readonly socket: Socket;
  waiter: Waiter | undefined;
  failure: Error | undefined;
}

/**
 * A client's channel to the controller's plain-TCP query listener (`tierkv+tcp://host:port`): one
 * connection, opened on the first request and again after it broke, carrying one request at a
 * time. After a timeout the connection is dropped, so a late reply can never be taken for the next
 * request's; the next request connects afresh.
 */
export class TcpQueryChannel {
  readonly #endpoint: string;
  readonly #address: { host: string; port: number };
  readonly #timeoutMs: number;
  readonly #timeoutOption: string;
  #conn: Connection | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** Requests sent or queued and not yet settled. */
  #inFlight = 0;
  #closed = false;

  /** `timeoutOption` names the option to raise in a TimeoutError. */
  constructor(endpoint: string, address: { host: string; port: number }, timeoutMs: number, timeoutOption: string) {
    this.#endpoint = endpoint;
    this.#address = address;
    this.#timeoutMs = timeoutMs;
    this.#timeoutOption = timeoutOption;
  }

  /** Sends one request payload and resolves to the reply payload; requests queue behind each other. */
  request(payload: Buffer): Promise<Buffer> {
    // The common case, nothing in flight, starts at once instead of a promise turn later.
    const run = this.#inFlight === 0 ? this.#roundTrip(payload) : this.#chain.then(() => this.#roundTrip(payload));
    this.#inFlight++;
    const settled = (): void => {
      this.#inFlight--;
    };
    this.#chain = run.then(settled, settled);
    return run;
  }

  close(): void {
    this.#closed = true;
    if (this.#conn) this.#drop(this.#conn, new UnavailableError('the controller client is closed'));
  }

  #roundTrip(payload: Buffer): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new UnavailableError('the controller client is closed'));
    const conn = this.#conn ?? this.#connect();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late reply must not be taken for the next request's: start over with a new connection.
        this.#drop(conn, new TimeoutError('controller request', this.#timeoutMs, this.#timeoutOption));
      }, this.#timeoutMs);
      conn.waiter = { resolve, reject, timer };
      const s = conn.socket;
      s.cork();
      s.write(queryFrameHeader(payload));
      s.write(payload);
      s.uncork();
    });
  }

  #connect(): Connection {
    const { host, port } = this.#address;
    const socket = connect({ host, port, noDelay: true });
    const conn: Connection = { socket, waiter: undefined, failure: undefined };
    const reader = new QueryStreamReader(MAX_REPLY_BYTES, (reply) => this.#reply(conn, reply), false);
    socket.setKeepAlive(true, 10_000);
    socket.write(QUERY_HELLO);
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.#drop(conn, new UnavailableError(`the controller at ${this.#endpoint} broke the query stream (${(err as Error).message}); the connection was closed`, { cause: err }));
      }
    });
    socket.on('error', (err) => {
      conn.failure ??= new UnavailableError(`connection to the controller at ${this.#endpoint} failed: ${err.message}`, { cause: err });
    });
    socket.on('close', () => this.#drop(conn, conn.failure ?? new UnavailableError(`the connection to the controller at ${this.#endpoint} closed before the reply came (controller restarted or shut down)`)));
    this.#conn = conn;
    return conn;
  }

  #reply(conn: Connection, reply: Buffer): void {
    const w = conn.waiter;
    if (!w) {
      this.#drop(conn, new UnavailableError(`the controller at ${this.#endpoint} sent a reply nobody asked for; the connection was closed`));
      return;
    }
    conn.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve(reply);
  }

  /** Ends a connection for good, failing the request it carried with `err`. */
  #drop(conn: Connection, err: Error): void {
    if (this.#conn === conn) this.#conn = undefined;
    conn.socket.destroy();
    const w = conn.waiter;
    if (!w) return;
    conn.waiter = undefined;
    clearTimeout(w.timer);
    w.reject(this.#closed ? new UnavailableError('the controller client is closed') : err);
  }
}
