import type { ErrorCode } from './messages.js';

/** A request the server answers with an error reply: `code` goes on the wire, `field` names the culprit. */
export class WireError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
    this.field = field;
  }
}
