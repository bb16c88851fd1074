import type { Xxh3Hasher } from '@tierkv/storage';
import type { ReplySink } from './resp-reader.js';
import { HEADER_PREFIX_BYTES, VALUE_HEADER_BYTES, checkHeader, headerBytesNeeded, payloadMatches, type CheckedHeader, type CorruptReason } from './value-header.js';

/** Per key of a load round trip: loaded (`ok`), no such key, refused (why), or the GET's error. */
export type LoadOutcome = 'ok' | 'absent' | CorruptReason | Error;

/** A GET's server error (`-ERR …`), named as ioredis names it so errorTypeOf classifies it alike. */
export class RedisReplyError extends Error {
  override readonly name = 'ReplyError';
}

/** What verifying one GET needs: the key's and layout's checksums, the target and the hasher. */
export interface LoadReplyCheck {
  readonly keyCrc: number;
  readonly layoutCrc: number | undefined;
  readonly target: Uint8Array;
  readonly hasher: Xxh3Hasher;
}

/**
 * The sink of one GET reply read by RespReader: the value's header is gathered and checked first
 * (magic, version, lengths, key, size, layout: checkHeader), and only a value that passes has its
 * payload read into the target, straight from the socket; the payload's checksum is then verified
 * over the target. So a value refused on its header never touches the target; a payload that
 * fails its checksum, or is cut off (`abandon()` once the call gave up and the socket is gone),
 * has been read into it and is zeroed: a refused value's bytes never stay in the caller's memory.
 */
export class LoadReply implements ReplySink {
  readonly expectedBytes: number;
  readonly #check: LoadReplyCheck;
  readonly #settle: (outcome: LoadOutcome) => void;
  #valueBytes = 0;
  #refused: CorruptReason | undefined;
  #header: { bytes: Buffer; checked: CheckedHeader } | undefined;
  #abandoned = false;
  #started = false;
  /** The payload in the target passed its checksum. */
  #verified = false;

  constructor(check: LoadReplyCheck, settle: (outcome: LoadOutcome) => void) {
    this.#check = check;
    this.#settle = settle;
    this.expectedBytes = VALUE_HEADER_BYTES + check.target.byteLength;
  }

  /** Whether the reader has reached this reply (only then can any of it be read into the target). */
  get started(): boolean {
    return this.#started;
  }

  /**
   * The call gave up: report nothing, read nothing more into the target (a reply not started yet
   * is dropped when it comes), and zero the target if part of a payload had been read into it
   * unverified (the socket is destroyed first then: see DirectLoads).
   */
  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    if (this.#header && !this.#verified) this.#check.target.fill(0);
  }

  line(type: '+' | '-' | ':', text: string): void {
    this.#started = true;
    this.#finish(type === '-' ? new RedisReplyError(text) : new Error(`Redis answered a GET with ${type}${text.slice(0, 60)}`));
  }

  nil(): void {
    this.#started = true;
    this.#finish('absent');
  }

  begin(length: number): number {
    this.#started = true;
    this.#valueBytes = length;
    return Math.min(length, HEADER_PREFIX_BYTES);
  }

  head(bytes: Buffer): number | Uint8Array | undefined {
    const needed = headerBytesNeeded(bytes, this.#valueBytes);
    if (bytes.length < needed) return needed;
    const c = this.#check;
    const checked = checkHeader(bytes, this.#valueBytes, c.keyCrc, c.target.byteLength, c.layoutCrc);
    if (typeof checked === 'string') {
      this.#refused = checked;
      return undefined;
    }
    if (this.#abandoned) return undefined;
    // The reader reuses `bytes`: keep the header (the checksum is compared after the payload).
    this.#header = { bytes: Buffer.from(bytes.subarray(0, checked.headerBytes)), checked };
    return c.target;
  }

  end(): void {
    if (this.#abandoned) return; // the socket is gone: never called then, but never touch the target after abandon()
    if (this.#refused !== undefined) return this.#finish(this.#refused);
    const h = this.#header;
    if (!h) return this.#finish('absent');
    let matches: boolean;
    try {
      matches = payloadMatches(h.bytes, h.checked, this.#check.target, this.#check.hasher);
    } catch {
      // A hash that throws is neither data nor evidence of damage: a miss, as on the ioredis path.
      this.#check.target.fill(0);
      this.#header = undefined;
      return this.#finish('absent');
    }
    if (matches) {
      this.#verified = true;
      return this.#finish('ok');
    }
    this.#check.target.fill(0);
    this.#header = undefined;
    this.#finish('checksum');
  }

  #finish(outcome: LoadOutcome): void {
    if (!this.#abandoned) this.#settle(outcome);
  }
}
