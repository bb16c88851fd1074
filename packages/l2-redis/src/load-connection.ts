import { connect, type Socket } from 'node:net';
import { UnavailableError, debugLogger } from '@tierkv/core';
import { RespProtocolError, RespReader, type ReplySink, type ReplySource } from './resp-reader.js';

const log = debugLogger('tierkv:l2-redis');

/** Where and as whom the load connection connects (from the ioredis client's resolved options). */
export interface LoadEndpoint {
  readonly host: string;
  readonly port: number;
  /** A Unix socket path: then host and port are unused. */
  readonly path?: string | undefined;
  readonly family?: number | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly db: number;
  /** ioredis' client-level `keyPrefix`, prepended to every key as ioredis does. */
  readonly keyPrefix: string;
}

/** A batch of replies on the connection, told when the connection fails before they all came. */
export interface PendingBatch {
  fail(err: Error): void;
}

/** The reply to a connection set-up command (AUTH, SELECT): `+OK`, or the connection is unusable. */
class SetupReply implements ReplySink {
  readonly expectedBytes = 0;
  readonly command: string;
  readonly fail: (err: Error) => void;
  constructor(command: string, fail: (err: Error) => void) {
    this.command = command;
    this.fail = fail;
  }
  line(type: '+' | '-' | ':', text: string): void {
    if (type !== '+') this.fail(new UnavailableError(`Redis refused ${this.command} on the load connection: ${text}`));
  }
  nil(): void {
    this.fail(new UnavailableError(`Redis answered ${this.command} with nil`));
  }
  begin(): number {
    return 0;
  }
  head(): undefined {
    return undefined;
  }
  end(): void {
    this.fail(new UnavailableError(`Redis answered ${this.command} with a bulk reply`));
  }
}

function bulk(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

/**
 * One socket of the adapter's own for GETs, read by RespReader so each value's payload is read
 * straight into its caller's target. Commands are pipelined: replies come in order and are
 * matched to the queue of sinks. Any failure (socket error or close, a broken reply, a refused
 * AUTH/SELECT, or `destroy` by a call that gave up) destroys the socket at once, so no read can
 * land in a target afterwards, and fails every batch still waiting; the owner opens a new one for
 * the next call.
 */
export class LoadConnection implements ReplySource {
  readonly #socket: Socket;
  readonly #endpoint: LoadEndpoint;
  /** Sinks of the replies still to come, in order (from #next). */
  #sinks: ReplySink[] = [];
  #next = 0;
  readonly #batches = new Set<PendingBatch>();
  #failure: Error | undefined;

  constructor(endpoint: LoadEndpoint) {
    this.#endpoint = endpoint;
    const reader = new RespReader(this);
    const onread = {
      buffer: () => reader.nextReadBuffer(),
      callback: (n: number) => {
        try {
          reader.read(n);
        } catch (err) {
          // Inside node:net's read path: never throw from here.
          const why = err instanceof RespProtocolError ? `sent a reply that breaks RESP (${err.message})` : `sent a reply that could not be read (${(err as Error).message})`;
          this.destroy(new UnavailableError(`Redis at ${this.#where()} ${why}; the load connection was closed`, { cause: err }));
        }
        return true;
      },
    };
    const socket = endpoint.path
      ? connect({ path: endpoint.path, onread })
      : connect({ host: endpoint.host, port: endpoint.port, ...(endpoint.family ? { family: endpoint.family } : {}), onread });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('error', (err) => this.destroy(new UnavailableError(`load connection to Redis at ${this.#where()} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.destroy(new UnavailableError(`the load connection to Redis at ${this.#where()} closed`)));
    const setup: string[] = [];
    const e = endpoint;
    if (e.password !== undefined && e.password !== '') {
      setup.push(e.username ? `*3\r\n$4\r\nAUTH\r\n${bulk(e.username)}${bulk(e.password)}` : `*2\r\n$4\r\nAUTH\r\n${bulk(e.password)}`);
      this.#sinks.push(new SetupReply('AUTH', (err) => this.destroy(err)));
    }
    if (e.db !== 0) {
      setup.push(`*2\r\n$6\r\nSELECT\r\n${bulk(String(e.db))}`);
      this.#sinks.push(new SetupReply(`SELECT ${e.db}`, (err) => this.destroy(err)));
    }
    if (setup.length > 0) socket.write(setup.join(''));
  }

  /** Whether the connection can take commands (not failed, not destroyed). */
  get usable(): boolean {
    return this.#failure === undefined;
  }

  /**
   * Pipelines a GET per key (ioredis' keyPrefix added), their replies going to `sinks` in order;
   * `batch` is failed if the connection fails before they all came.
   */
  get(keys: readonly string[], sinks: readonly ReplySink[], batch: PendingBatch): void {
    if (this.#failure) return batch.fail(this.#failure);
    this.#batches.add(batch);
    let out = '';
    const prefix = this.#endpoint.keyPrefix;
    for (const key of keys) out += `*2\r\n$3\r\nGET\r\n${bulk(prefix + key)}`;
    for (const sink of sinks) this.#sinks.push(sink);
    this.#socket.write(out);
  }

  /** The batch has all its replies (or gave up and destroyed the connection). */
  done(batch: PendingBatch): void {
    this.#batches.delete(batch);
  }

  /** Destroys the socket now (no read lands anywhere afterwards) and fails every waiting batch with `err`. */
  destroy(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#socket.destroy();
    log('load connection closed: %s', err.message);
    const batches = [...this.#batches];
    this.#batches.clear();
    this.#sinks = [];
    this.#next = 0;
    for (const b of batches) b.fail(err);
  }

  take(): ReplySink | undefined {
    const sink = this.#sinks[this.#next];
    if (sink === undefined) return undefined;
    this.#sinks[this.#next++] = undefined as unknown as ReplySink;
    // Drop the consumed front, so the queue does not grow with the connection's life.
    if (this.#next === this.#sinks.length) {
      this.#sinks = [];
      this.#next = 0;
    } else if (this.#next >= 1024 && this.#next * 2 >= this.#sinks.length) {
      this.#sinks = this.#sinks.slice(this.#next);
      this.#next = 0;
    }
    return sink;
  }

  upcomingBytes(): number {
    return this.#sinks[this.#next]?.expectedBytes ?? 0;
  }

  #where(): string {
    const e = this.#endpoint;
    return e.path ?? `${e.host}:${e.port}`;
  }
}
