/**
 * Reads the `tierkv+tcp://` byte stream (the envelope is described in stream-envelope.ts): cuts it
 * into messages, checking every cap before a byte of payload is buffered.
 */
import { HELLO_FIXED_BYTES, HELLO_MAGIC, STREAM_VERSION } from './stream-envelope.js';

/** Reads between frames (headers, small frames, the start of a large one) land in this much. */
const SCRATCH_BYTES = 64 * 1024;
/** Frames up to this size are copied out of the scratch buffer rather than keeping it. */
const COPY_OUT_BYTES = 16 * 1024;
/** A released message buffer up to this size is kept for the next message (one per reader). */
const RECYCLE_MAX_BYTES = 16 * 1024 * 1024;

/** Bounds a reader enforces before buffering: a peer can make it hold at most `maxMessageBytes`. */
export interface StreamLimits {
  /** Frames one message may have. */
  readonly maxFrames: number;
  /** Bytes of one frame. */
  readonly maxFrameBytes: number;
  /** Bytes of all frames of one message. */
  readonly maxMessageBytes: number;
}

/** The peer broke the stream envelope; the connection cannot be resynchronised and must close. */
export class StreamFramingError extends Error {
  override readonly name = 'StreamFramingError';
}

/**
 * Where the frames of a message from index 2 on (a reply's chunk frames) should be read, asked once
 * its first two frames (prelude, header) are in: buffers of exactly the announced lengths, or
 * undefined for the reader's own.
 */
export type FrameDestination = (head: readonly Buffer[], lengths: readonly number[]) => readonly Uint8Array[] | undefined;

/** Whether `buffers` can take a message's frames from index 2 on: one each, of exactly its announced length. */
export function fitsFrames(buffers: readonly Uint8Array[], lengths: readonly number[]): boolean {
  if (buffers.length !== lengths.length - 2) return false;
  for (let i = 0; i < buffers.length; i++) if (buffers[i]!.byteLength !== lengths[i + 2]) return false;
  return true;
}

/** Where a reader is in the stream. */
type Phase = 'hello' | 'hello_id' | 'count' | 'lengths' | 'frames';

/**
 * Cuts a TCP byte stream into messages (arrays of frames), checking the caps from the length table
 * before any payload is buffered. A frame that arrives whole inside one read is a view of that
 * read's buffer (no copy); one that spans reads is gathered into a buffer of its exact size.
 */
export class FrameReader {
  readonly #limits: StreamLimits;
  readonly #onHello: ((clientId: string) => void) | undefined;
  readonly #onMessage: (frames: Buffer[], release: (() => void) | undefined) => void;
  #phase: Phase;
  /** Gathers the small fixed parts (hello, count, lengths) that straddle reads. */
  #small = Buffer.alloc(0);
  #need = 0;
  #lengths: number[] = [];
  #frames: Buffer[] = [];
  /**
   * The rest of a message being gathered across reads (every frame from the one that did not fit
   * in a read to the last), and how much of it arrived: one buffer, so reads may span frames.
   */
  #partial: Buffer | undefined;
  #partialFilled = 0;
  /** The whole buffer #partial is a view of (a recycled buffer may be larger than the message). */
  #partialBase: Buffer | undefined;
  /** A buffer a released message gave back, for the next message that needs one of its size or less. */
  #spare: Buffer | undefined;
  #broken = false;
  /** Where reads land between frames (see nextReadBuffer); replaced once a frame is a view of it. */
  #scratch: Buffer | undefined;
  #scratchShared = false;
  /** The buffer handed out by the last nextReadBuffer(). */
  #readTarget: Buffer | undefined;
  readonly #destination: FrameDestination | undefined;
  /** The caller's buffers for this message's frames 2…n (asked once per message), and the current one's fill. */
  #direct: Buffer[] | undefined;
  #askedDirect = false;
  #directFilled = 0;
  /** Whether #readTarget is a view of a #direct buffer. */
  #readDirect = false;

  /**
   * With `onHello` the stream starts with a hello (the server side); without, with a message.
   *
   * `onMessage` gets a `release` with a message whose frames were gathered across reads into a
   * buffer of the reader's. Calling it says nothing reads those frames any more: the buffer is then
   * reused for a later message, which spares the allocation and the garbage collection of one
   * large buffer per message. Never calling it is safe (the buffer is left to the collector).
   *
   * With `destination`, a message's frames from index 2 on are read into the buffers it gives
   * (the kernel writes a retrieved chunk straight into the caller's memory) and delivered as views
   * of them.
   */
  constructor(
    limits: StreamLimits,
    onMessage: (frames: Buffer[], release: (() => void) | undefined) => void,
    onHello?: (clientId: string) => void,
    destination?: FrameDestination,
  ) {
    this.#limits = limits;
    this.#destination = destination;
    this.#onMessage = onMessage;
    this.#onHello = onHello;
    this.#phase = onHello ? 'hello' : 'count';
    this.#need = onHello ? HELLO_FIXED_BYTES : 4;
  }

  /** Bytes held for an incomplete message right now (bounded by `maxMessageBytes` + its table). */
  get bufferedBytes(): number {
    let n = this.#small.byteLength + this.#partialFilled;
    for (const f of this.#frames) n += f.byteLength;
    return n;
  }

  /**
   * For node:net's `onread`: the buffer the next read should fill. Inside a message that spans
   * reads it is the rest of that message's own buffer, so the kernel writes the payload where it
   * ends up (no copy, and one read per socket-buffer's worth instead of per 64 KiB); elsewhere a
   * scratch buffer.
   */
  nextReadBuffer(): Buffer {
    this.#readDirect = false;
    if (this.#phase === 'frames' && this.#frames.length >= 2 && this.#askDirect()) {
      this.#readDirect = true;
      this.#readTarget = this.#direct![this.#frames.length - 2]!.subarray(this.#directFilled);
    } else if (this.#phase === 'frames' && this.#partial) {
      this.#readTarget = this.#partial.subarray(this.#partialFilled);
    } else {
      if (!this.#scratch || this.#scratchShared) {
        this.#scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
        this.#scratchShared = false;
      }
      this.#readTarget = this.#scratch;
    }
    return this.#readTarget;
  }

  /** For node:net's `onread`: `n` bytes arrived in `buf`, the buffer nextReadBuffer() gave out. */
  read(n: number, buf: Buffer): void {
    if (this.#broken) return;
    if (buf !== this.#readTarget) throw new Error('FrameReader.read() takes the buffer nextReadBuffer() returned');
    if (this.#readDirect) {
      this.#readDirect = false;
      this.#directFilled += n;
      if (this.#directFilled === this.#direct![this.#frames.length - 2]!.byteLength) this.#directFrameDone();
      return;
    }
    if (buf !== this.#scratch) {
      // The kernel filled the message in place.
      this.#partialFilled += n;
      if (this.#partialFilled === this.#partial!.byteLength) this.#restGathered();
      return;
    }
    this.push(buf.subarray(0, n));
  }

  /** Feeds one read; throws StreamFramingError when the peer broke the envelope (then close). */
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
      if (this.#phase === 'frames') {
        at = this.#takeFrame(chunk, at);
        continue;
      }
      // A fixed part: take it straight from the chunk when it is whole there.
      let part: Buffer;
      const have = this.#small.byteLength;
      if (have === 0 && chunk.byteLength - at >= this.#need) {
        part = chunk.subarray(at, at + this.#need);
        at += this.#need;
      } else {
        const take = Math.min(this.#need - have, chunk.byteLength - at);
        this.#small = Buffer.concat([this.#small, chunk.subarray(at, at + take)]);
        at += take;
        if (this.#small.byteLength < this.#need) return;
        part = this.#small;
        this.#small = Buffer.alloc(0);
      }
      this.#fixedPart(part);
    }
  }

  #fixedPart(part: Buffer): void {
    switch (this.#phase) {
      case 'hello':
        if (!part.subarray(0, 4).equals(HELLO_MAGIC)) throw new StreamFramingError("the connection did not start with the tierkv TCP hello ('TKTC'); is a ZeroMQ client talking to a tierkv+tcp:// server?");
        if (part[4] !== STREAM_VERSION) throw new StreamFramingError(`TCP stream version ${part[4]} is not supported; this server speaks version ${STREAM_VERSION}`);
        if (part[5] === 0) throw new StreamFramingError('the hello names an empty client id');
        this.#phase = 'hello_id';
        this.#need = part[5]!;
        return;
      case 'hello_id':
        this.#onHello!(part.toString('utf8'));
        return this.#expectCount();
      case 'count': {
        const count = part.readUInt32LE(0);
        if (count === 0 || count > this.#limits.maxFrames) throw new StreamFramingError(`a message announced ${count} frames; 1-${this.#limits.maxFrames} are accepted`);
        this.#phase = 'lengths';
        this.#need = 4 * count;
        return;
      }
      case 'lengths': {
        const lengths: number[] = new Array(part.byteLength / 4);
        let total = 0;
        for (let i = 0; i < lengths.length; i++) {
          const n = part.readUInt32LE(4 * i);
          if (n > this.#limits.maxFrameBytes) throw new StreamFramingError(`frame ${i} announced ${n} bytes; frames are capped at ${this.#limits.maxFrameBytes}`);
          total += n;
          lengths[i] = n;
        }
        if (total > this.#limits.maxMessageBytes) throw new StreamFramingError(`a message announced ${total} bytes; messages are capped at ${this.#limits.maxMessageBytes}`);
        this.#lengths = lengths;
        this.#frames = [];
        this.#phase = 'frames';
        this.#need = 0;
        return this.#completeEmptyFrames();
      }
      default:
        return;
    }
  }

  #expectCount(): void {
    this.#phase = 'count';
    this.#need = 4;
  }

  /** Zero-length frames take no bytes: settle them (and the message, when it ends with them) now. */
  #completeEmptyFrames(): void {
    while (this.#frames.length < this.#lengths.length && this.#lengths[this.#frames.length] === 0) this.#frames.push(Buffer.alloc(0));
    if (this.#frames.length === this.#lengths.length) {
      const frames = this.#frames;
      this.#direct = undefined;
      this.#askedDirect = false;
      this.#directFilled = 0;
      this.#frames = [];
      this.#expectCount();
      const base = this.#partialBase;
      this.#partialBase = undefined;
      this.#onMessage(frames, base && base.byteLength <= RECYCLE_MAX_BYTES ? this.#releaser(base) : undefined);
    }
  }

  /** Gives `base` back once, keeping the larger of it and the spare already held. */
  #releaser(base: Buffer): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (!this.#spare || this.#spare.byteLength < base.byteLength) this.#spare = base;
    };
  }

  /** A buffer of `bytes` for the rest of a message: the spare when it is large enough. */
  #gatherBuffer(bytes: number): Buffer {
    const spare = this.#spare;
    if (spare && spare.byteLength >= bytes) {
      this.#spare = undefined;
      this.#partialBase = spare;
      return spare.subarray(0, bytes);
    }
    const b = Buffer.allocUnsafeSlow(bytes);
    this.#partialBase = b;
    return b;
  }

  /** True when this message's remaining frames go to the caller's buffers (asking once, after frame 1). */
  #askDirect(): boolean {
    if (!this.#askedDirect && this.#destination && this.#frames.length === 2 && !this.#partial) {
      this.#askedDirect = true;
      const lengths = this.#lengths;
      let given: readonly Uint8Array[] | undefined;
      try {
        given = this.#destination(this.#frames, lengths);
      } catch {
        // Asked from inside node:net's read path: a throwing destination just means none.
        given = undefined;
      }
      if (given && fitsFrames(given, lengths)) {
        this.#direct = given.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      }
    }
    return this.#direct !== undefined;
  }

  #directFrameDone(): void {
    this.#frames.push(this.#direct![this.#frames.length - 2]!);
    this.#directFilled = 0;
    this.#completeEmptyFrames();
  }

  #takeFrame(chunk: Buffer, at: number): number {
    const size = this.#lengths[this.#frames.length]!;
    const left = chunk.byteLength - at;
    if (this.#frames.length >= 2 && this.#askDirect()) {
      const target = this.#direct![this.#frames.length - 2]!;
      const take = Math.min(target.byteLength - this.#directFilled, left);
      chunk.copy(target, this.#directFilled, at, at + take);
      this.#directFilled += take;
      if (this.#directFilled === target.byteLength) this.#directFrameDone();
      return at + take;
    }
    if (!this.#partial) {
      if (left >= size) {
        if (chunk.buffer === this.#scratch?.buffer) {
          // Small frames are copied out of the scratch buffer (from Node's pool, cheap) so it serves
          // the next read; a larger one keeps a view and the next read gets a new scratch buffer.
          if (size <= COPY_OUT_BYTES) this.#frames.push(Buffer.from(chunk.subarray(at, at + size)));
          else {
            this.#scratchShared = true;
            this.#frames.push(chunk.subarray(at, at + size));
          }
        } else {
          this.#frames.push(chunk.subarray(at, at + size));
        }
        this.#completeEmptyFrames();
        return at + size;
      }
      // This frame and every one after it go into one buffer of their total size (all checked
      // against the caps already), which later reads fill in place.
      // With a destination, only up to the header: the chunk frames may go to the caller's buffers.
      const end = this.#destination && this.#frames.length < 2 ? Math.min(2, this.#lengths.length) : this.#lengths.length;
      let rest = 0;
      for (let i = this.#frames.length; i < end; i++) rest += this.#lengths[i]!;
      this.#partial = this.#gatherBuffer(rest);
      this.#partialFilled = 0;
    }
    const partial = this.#partial;
    const take = Math.min(partial.byteLength - this.#partialFilled, left);
    chunk.copy(partial, this.#partialFilled, at, at + take);
    this.#partialFilled += take;
    if (this.#partialFilled === partial.byteLength) this.#restGathered();
    return at + take;
  }

  /** What #partial covers arrived: cut it into its frames (views); the message is delivered once all are in. */
  #restGathered(): void {
    const rest = this.#partial!;
    this.#partial = undefined;
    this.#partialFilled = 0;
    let at = 0;
    for (let i = this.#frames.length; at < rest.byteLength; i++) {
      const n = this.#lengths[i]!;
      this.#frames.push(rest.subarray(at, at + n));
      at += n;
    }
    this.#completeEmptyFrames();
  }
}
