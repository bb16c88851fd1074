import { Command } from 'ioredis';

/** How a FramedSetCommand reaches the socket. */
export type FramedSetMode =
  /**
   * The payload itself is handed to the socket, never copied in user space (the kernel's copy
   * into the socket is the only one). Only for a command sent with `client.sendCommand` on a
   * single-node client, which writes `toWritable`'s result to the socket right after calling it:
   * inside a Pipeline its parts would overtake the commands queued ahead of it. The payload is
   * read when the socket drains, so the caller must not change it before the reply; a late write
   * of changed bytes (after a deadline) is caught by the payload checksum at load.
   */
  | 'socket'
  /** Header and payload are copied into one RESP buffer now (one copy, like a raw `redis.set`): for pipelines and for values without a payload checksum. */
  | 'copy';

const CRLF = Buffer.from('\r\n', 'latin1');
/** The tail after the value: `\r\n`, plus `EX seconds` when the adapter has a TTL (a few distinct values: cached). */
const tails = new Map<number, Buffer>([[0, CRLF]]);

function tailOf(ttlSeconds: number): Buffer {
  let tail = tails.get(ttlSeconds);
  if (!tail) {
    const ttl = String(ttlSeconds);
    tail = Buffer.from(`\r\n$2\r\nEX\r\n$${ttl.length}\r\n${ttl}\r\n`, 'latin1');
    if (tails.size < 64) tails.set(ttlSeconds, tail);
  }
  return tail;
}

interface Corkable {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
}

function uncork(socket: Corkable): void {
  socket.uncork();
}

/**
 * `SET key (header ‖ payload) [EX seconds]`, serialized from its two parts without ever
 * assembling the value: a `SET` of a pre-assembled value would copy the payload once into the
 * value and once more into ioredis' RESP buffer. Sent with `sendCommand`, so single-node and
 * cluster routing, `keyPrefix`, timeouts and reconnect resends are ioredis' own (a resend
 * serializes again). See FramedSetMode for the two ways it is written.
 */
export class FramedSetCommand extends Command {
  readonly #header: Buffer;
  readonly #payload: Buffer;
  readonly #ttlSeconds: number;
  /** The whole RESP command, in 'copy' mode. */
  readonly #frame: Buffer | undefined;

  constructor(key: string, header: Buffer, payload: Uint8Array, ttlSeconds: number, mode: FramedSetMode, keyPrefix?: string) {
    // Only the key is a real argument: it drives slot routing and ioredis' keyPrefix.
    super('set', [key], keyPrefix ? { keyPrefix } : {});
    this.#header = header;
    this.#payload = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    this.#ttlSeconds = ttlSeconds;
    if (mode === 'copy') {
      const head = this.#head();
      const tail = tailOf(ttlSeconds);
      const frame = Buffer.allocUnsafe(head.length + this.#payload.length + tail.length);
      head.copy(frame, 0);
      this.#payload.copy(frame, head.length);
      tail.copy(frame, head.length + this.#payload.length);
      this.#frame = frame;
    }
  }

  /** `*N $3 SET $klen key $vlen` and the value header: everything before the payload. */
  #head(): Buffer {
    const rawKey = this.args[0] as string | Buffer;
    const key = typeof rawKey === 'string' ? Buffer.from(rawKey) : rawKey;
    const start = `*${this.#ttlSeconds > 0 ? 5 : 3}\r\n$3\r\nSET\r\n$${key.length}\r\n`;
    const mid = `\r\n$${this.#header.length + this.#payload.length}\r\n`;
    const head = Buffer.allocUnsafe(start.length + key.length + mid.length + this.#header.length);
    let at = head.write(start, 0, 'latin1');
    at += key.copy(head, at);
    at += head.write(mid, at, 'latin1');
    this.#header.copy(head, at);
    return head;
  }

  override toWritable(socket: object): Buffer {
    if (this.#frame) return this.#frame;
    // ioredis writes the returned tail right after this call. Corked until the next tick, every
    // command written in this tick leaves in one writev of the caller's own buffers.
    const s = socket as Corkable;
    s.cork();
    s.write(this.#head());
    s.write(this.#payload);
    process.nextTick(uncork, s);
    return tailOf(this.#ttlSeconds);
  }
}
