/** Stable machine-readable codes carried by every tierkv error. */
export type TierkvErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CONFIG'
  | 'ERR_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_PROTOCOL'
  | 'ERR_UNAVAILABLE'
  | 'ERR_CAPACITY'
  | 'ERR_INTERNAL';

/**
 * Base class of every error tierkv throws. `code` is stable across versions; the message says what
 * was wrong and what to do about it.
 */
export class TierkvError extends Error {
  readonly code: TierkvErrorCode;

  constructor(code: TierkvErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
