import { Command } from 'ioredis';

/**
 * `SET key (header ‖ payload) [EX seconds]`, serialized straight from its two parts into the one
 * buffer ioredis writes to the socket. A plain `SET` of a pre-assembled value would copy the
 * payload twice (into the value, then into the RESP buffer); this copies it once, as a raw
 * `redis.set(key, payload)` does. Sent with `sendCommand`, so single-node and cluster routing,
 * `keyPrefix`, timeouts and reconnect resends are ioredis' own (a resend serializes again).
 */
export class FramedSetCommand extends Command {
  readonly #header: Buffer;
  readonly #payload: Uint8Array;
  readonly #ttlSeconds: number;

  constructor(key: string, header: Buffer, payload: Uint8Array, ttlSeconds: number, keyPrefix?: string) {
    // Only the key is a real argument: it drives slot routing and ioredis' keyPrefix.
    super('set', [key], keyPrefix ? { keyPrefix } : {});
    this.#header = header;
    this.#payload = payload;
    this.#ttlSeconds = ttlSeconds;
  }

  override toWritable(_socket: object): Buffer {
    const rawKey = this.args[0] as string | Buffer;
    const key = typeof rawKey === 'string' ? Buffer.from(rawKey) : rawKey;
    const valueBytes = this.#header.length + this.#payload.byteLength;
    const ttl = this.#ttlSeconds > 0 ? String(this.#ttlSeconds) : '';
    const head = `*${ttl ? 5 : 3}\r\n$3\r\nSET\r\n$${key.length}\r\n`;
    const mid = `\r\n$${valueBytes}\r\n`;
    const tail = ttl ? `\r\n$2\r\nEX\r\n$${ttl.length}\r\n${ttl}\r\n` : '\r\n';
    const out = Buffer.allocUnsafe(head.length + key.length + mid.length + valueBytes + tail.length);
    let at = out.write(head, 0, 'latin1');
    at += key.copy(out, at);
    at += out.write(mid, at, 'latin1');
    at += this.#header.copy(out, at);
    out.set(this.#payload, at);
    at += this.#payload.byteLength;
    out.write(tail, at, 'latin1');
    return out;
  }
}
