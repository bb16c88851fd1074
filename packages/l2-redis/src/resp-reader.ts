/**
 * A RESP2 reply reader for a socket opened with node:net's `onread`: it chooses the memory each
 * read lands in (`nextReadBuffer`), so a bulk reply's body can be read by the kernel straight into
 * the buffer its sink names, with no intermediate Buffer, concatenation or copy. Everything else
 * (reply lines, the leading bytes a sink gathers, bodies it drops) goes through two fixed buffers,
 * so a peer can make it hold at most `SCRATCH_BYTES + MAX_HEAD_BYTES`, whatever lengths it sends.
 */

/** The fixed read buffer; also the longest reply line (`-ERR …`) accepted. */
export const SCRATCH_BYTES = 64 * 1024;
/** The most leading bytes of a bulk reply a sink may gather before saying where the rest goes. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Replies at least this big are read with short framing reads, so their bodies are not read into the scratch buffer (and copied) but into their targets. */
const LARGE_REPLY_BYTES = 16 * 1024;
/** How much a framing read takes when a large body follows: its line, a value header, a few bytes of body. */
const FRAME_READ_BYTES = 256;

/** What one expected reply's content goes to. Calls come from inside node:net's read path: they must not throw. */
export interface ReplySink {
  /** Bytes the reply is expected to have; a hint (a large one's body is read into its target, not copied there). */
  readonly expectedBytes: number;
  /** A status (`+`), error (`-`) or integer (`:`) reply. */
  line(type: '+' | '-' | ':', text: string): void;
  /** A nil bulk reply (`$-1`). */
  nil(): void;
  /** A bulk reply of `length` bytes begins: how many of its leading bytes to gather first (at most min(length, MAX_HEAD_BYTES)). */
  begin(length: number): number;
  /**
   * The leading bytes gathered so far (a view of the reader's buffer, valid during the call): a
   * larger count to gather more, a view of exactly the bytes left to read the rest into, or
   * undefined to drop the rest.
   */
  head(bytes: Buffer): number | Uint8Array | undefined;
  /** The bulk reply is complete (its trailing CRLF read). */
  end(): void;
}

/** Where the reader takes the sink of each reply from, in order. */
export interface ReplySource {
  /** The next reply's sink, taken off the queue (undefined: no reply is expected). */
  take(): ReplySink | undefined;
  /** The next reply's expected size (0 when none is expected), without taking it. */
  upcomingBytes(): number;
}

/** The peer broke RESP, or sent a reply nobody asked for: the stream cannot be read further. */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

const CR = 13;
const LF = 10;
type State = 'line' | 'head' | 'body' | 'drop' | 'crlf';

export class RespReader {
  readonly #source: ReplySource;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #start = 0;
  #end = 0;
  #head: Buffer | undefined;
  #state: State = 'line';
  #sink: ReplySink | undefined;
  #bulkBytes = 0;
  #headWanted = 0;
  #headHave = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #dropLeft = 0;
  #crlfSeen = 0;
  /** Whether the buffer last handed out is the current body (else it is the scratch buffer, from #end). */
  #readingBody = false;

  constructor(source: ReplySource) {
    this.#source = source;
  }

  /** The memory the next socket read goes to (node:net asks after every read). Never empty. */
  nextReadBuffer(): Uint8Array {
    if (this.#state === 'body' && this.#start === this.#end) {
      this.#readingBody = true;
      return this.#body!.subarray(this.#bodyFilled);
    }
    this.#readingBody = false;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#end === SCRATCH_BYTES) this.#compact();
    let size = SCRATCH_BYTES - this.#end;
    // Between replies or in a head, a large body may be near: read only its framing, not into it.
    // Only a reply known to be small (or a body being dropped) is read in large chunks.
    if (this.#state !== 'drop') {
      const upcoming = this.#state === 'head' ? this.#bulkBytes : this.#source.upcomingBytes();
      if (upcoming === 0 || upcoming >= LARGE_REPLY_BYTES) size = Math.min(size, FRAME_READ_BYTES);
    }
    return this.#scratch.subarray(this.#end, this.#end + size);
  }

  /** `n` bytes were read into the buffer nextReadBuffer returned. Throws RespProtocolError on a broken stream. */
  read(n: number): void {
    if (this.#readingBody) {
      this.#bodyFilled += n;
      if (this.#bodyFilled === this.#body!.byteLength) this.#bodyDone();
      return;
    }
    this.#end += n;
    this.#parse();
  }

  #parse(): void {
    const s = this.#scratch;
    while (this.#start < this.#end) {
      const avail = this.#end - this.#start;
      switch (this.#state) {
        case 'line': {
          const at = s.subarray(this.#start, this.#end).indexOf(LF);
          const lf = this.#start + at;
          if (at < 0) {
            if (avail >= SCRATCH_BYTES) throw new RespProtocolError(`a reply line longer than ${SCRATCH_BYTES} bytes`);
            return;
          }
          if (lf === this.#start || s[lf - 1] !== CR) throw new RespProtocolError('a reply line not ended by CRLF');
          const type = s[this.#start]!;
          const text = s.toString('utf8', this.#start + 1, lf - 1);
          this.#start = lf + 1;
          this.#reply(type, text);
          break;
        }
        case 'head': {
          const take = Math.min(avail, this.#headWanted - this.#headHave);
          s.copy(this.#head!, this.#headHave, this.#start, this.#start + take);
          this.#start += take;
          this.#headHave += take;
          if (this.#headHave === this.#headWanted) this.#route();
          break;
        }
        case 'body': {
          const body = this.#body!;
          const take = Math.min(avail, body.byteLength - this.#bodyFilled);
          body.set(s.subarray(this.#start, this.#start + take), this.#bodyFilled);
          this.#start += take;
          this.#bodyFilled += take;
          if (this.#bodyFilled === body.byteLength) this.#bodyDone();
          break;
        }
        case 'drop': {
          const take = Math.min(avail, this.#dropLeft);
          this.#start += take;
          this.#dropLeft -= take;
          if (this.#dropLeft === 0) this.#state = 'crlf';
          break;
        }
        case 'crlf': {
          const byte = s[this.#start++]!;
          if (byte !== (this.#crlfSeen === 0 ? CR : LF)) throw new RespProtocolError('a bulk reply longer than its length');
          if (++this.#crlfSeen === 2) {
            const sink = this.#sink!;
            this.#sink = undefined;
            this.#state = 'line';
            sink.end();
          }
          break;
        }
      }
    }
  }

  #reply(type: number, text: string): void {
    const sink = this.#source.take();
    if (!sink) throw new RespProtocolError(`a reply nobody asked for (${JSON.stringify(String.fromCharCode(type) + text.slice(0, 40))})`);
    switch (type) {
      case 0x2b: // +
        return sink.line('+', text);
      case 0x2d: // -
        return sink.line('-', text);
      case 0x3a: // :
        return sink.line(':', text);
      case 0x24: {
        // $
        if (text === '-1') return sink.nil();
        if (!/^\d{1,15}$/.test(text)) throw new RespProtocolError(`a bulk length that is not one: ${JSON.stringify(text.slice(0, 40))}`);
        this.#sink = sink;
        this.#bulkBytes = Number(text);
        this.#headHave = 0;
        const wanted = sink.begin(this.#bulkBytes);
        this.#gather(wanted);
        return;
      }
      default:
        throw new RespProtocolError(`an unexpected reply type ${JSON.stringify(String.fromCharCode(type))} for this command`);
    }
  }

  #gather(wanted: number): void {
    if (!Number.isInteger(wanted) || wanted < this.#headHave || wanted > Math.min(this.#bulkBytes, MAX_HEAD_BYTES)) {
      throw new RespProtocolError(`a sink asked to gather ${wanted} leading bytes of a ${this.#bulkBytes}-byte reply`);
    }
    this.#head ??= Buffer.allocUnsafe(MAX_HEAD_BYTES);
    this.#headWanted = wanted;
    this.#state = 'head';
    if (this.#headHave === wanted) this.#route();
  }

  /** The gathered head is complete: ask the sink where the rest goes. */
  #route(): void {
    const sink = this.#sink!;
    const next = sink.head(this.#head!.subarray(0, this.#headHave));
    const left = this.#bulkBytes - this.#headHave;
    if (typeof next === 'number') {
      if (next > this.#headHave) return this.#gather(next);
      throw new RespProtocolError(`a sink asked to gather ${next} leading bytes, no more than it has`);
    }
    this.#headHave = 0;
    if (next === undefined) {
      this.#dropLeft = left;
      this.#state = left === 0 ? 'crlf' : 'drop';
    } else {
      if (next.byteLength !== left) throw new RespProtocolError(`a sink gave ${next.byteLength} bytes for the ${left} left of a reply`);
      this.#body = next;
      this.#bodyFilled = 0;
      this.#state = 'body';
      if (left === 0) this.#bodyDone();
    }
    this.#crlfSeen = 0;
  }

  #bodyDone(): void {
    // The body is complete: the reader never refers to it again (a following read goes to scratch).
    this.#body = undefined;
    this.#bodyFilled = 0;
    this.#crlfSeen = 0;
    this.#state = 'crlf';
  }

  #compact(): void {
    this.#scratch.copyWithin(0, this.#start, this.#end);
    this.#end -= this.#start;
    this.#start = 0;
  }
}
