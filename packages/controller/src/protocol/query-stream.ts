/**
 * The controller's query messages over a plain TCP byte stream (`tierkv+tcp://`, the `queryPort`
 * listener). The payloads are the very msgpack messages of the ROUTER socket; only the envelope
 * differs:
 *
 *   hello    (client → controller, once, first bytes of a connection) 'T' 'K' 'C' 'Q', version (u8 = 1)
 *   message  length (u32 LE), then the msgpack payload; both ways, replies in request order
 *
 * The length comes first so a reader refuses an oversized message before buffering any of it.
 */
export const QUERY_HELLO = Buffer.from([0x54, 0x4b, 0x43, 0x51, 1]);
/** The URL scheme of the query listener's endpoint (ControllerClient picks the transport by it). */
export const QUERY_SCHEME = 'tierkv+tcp';

/** The peer broke the stream envelope (bad hello, oversized message); the connection must close. */
export class QueryStreamError extends Error {
  override readonly name = 'QueryStreamError';
  /** True when the hello itself was wrong: not a tierkv query client. */
  readonly inHello: boolean;

  constructor(message: string, inHello: boolean) {
    super(message);
    this.inHello = inHello;
  }
}

/** The length prefix to write before `payload` (the two go out corked, in one writev). */
export function queryFrameHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32LE(payload.byteLength, 0);
  return h;
}

/** Host and port of a `tierkv+tcp://host:port` endpoint (IPv6 hosts in brackets), or undefined. */
export function queryEndpointAddress(endpoint: string): { host: string; port: number } | undefined {
  const m = /^tierkv\+tcp:\/\/(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(endpoint);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * Cuts a byte stream into messages. A message that arrives whole inside one read is handed on as a
 * view of that read (no copy); one that spans reads is gathered into a buffer of its exact size,
 * allocated only once its length passed the cap. So a peer can make a reader hold at most
 * `maxMessageBytes` (plus a few header bytes).
 */
export class QueryStreamReader {
  readonly #maxMessageBytes: number;
  readonly #onMessage: (payload: Buffer) => void;
  #inHello: boolean;
  /** Header bytes (hello or length) that straddle reads. */
  #head: Buffer = Buffer.alloc(0);
  #payload: Buffer | undefined;
  #filled = 0;
  #broken = false;

  /** With `hello` the stream starts with the client hello (the controller side). */
  constructor(maxMessageBytes: number, onMessage: (payload: Buffer) => void, hello: boolean) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#onMessage = onMessage;
    this.#inHello = hello;
  }

  /** Bytes held for an incomplete message right now. */
  get bufferedBytes(): number {
    return this.#head.byteLength + this.#filled;
  }

  /** Feeds one read; throws QueryStreamError when the peer broke the envelope (then close). */
  push(chunk: Buffer): void {
    if (this.#broken) return;
    try {
      this.#push(chunk);
    } catch (err) {
      this.#broken = true;
      throw err;
    }
  }

  #push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#payload) {
        at = this.#fill(chunk, at);
        continue;
      }
      const need = this.#inHello ? QUERY_HELLO.byteLength : 4;
      let head: Buffer;
      if (this.#head.byteLength === 0 && chunk.byteLength - at >= need) {
        head = chunk.subarray(at, at + need);
        at += need;
      } else {
        const take = Math.min(need - this.#head.byteLength, chunk.byteLength - at);
        this.#head = Buffer.concat([this.#head, chunk.subarray(at, at + take)]);
        at += take;
        if (this.#head.byteLength < need) return;
        head = this.#head;
        this.#head = Buffer.alloc(0);
      }
      if (this.#inHello) {
        if (!head.subarray(0, 4).equals(QUERY_HELLO.subarray(0, 4))) {
          throw new QueryStreamError("the connection did not start with the controller query hello ('TKCQ'); is a ZeroMQ or HTTP client talking to the tierkv+tcp:// query port?", true);
        }
        if (head[4] !== QUERY_HELLO[4]) throw new QueryStreamError(`query stream version ${head[4]} is not supported; this side speaks version ${QUERY_HELLO[4]}`, true);
        this.#inHello = false;
        continue;
      }
      const n = head.readUInt32LE(0);
      if (n > this.#maxMessageBytes) throw new QueryStreamError(`a message announced ${n} bytes; messages are capped at ${this.#maxMessageBytes}`, false);
      if (chunk.byteLength - at >= n) {
        this.#onMessage(chunk.subarray(at, at + n));
        at += n;
      } else {
        this.#payload = Buffer.allocUnsafe(n);
        this.#filled = 0;
      }
    }
  }

  #fill(chunk: Buffer, at: number): number {
    const payload = this.#payload!;
    const take = Math.min(payload.byteLength - this.#filled, chunk.byteLength - at);
    chunk.copy(payload, this.#filled, at, at + take);
    this.#filled += take;
    if (this.#filled === payload.byteLength) {
      this.#payload = undefined;
      this.#filled = 0;
      this.#onMessage(payload);
    }
    return at + take;
  }
}
