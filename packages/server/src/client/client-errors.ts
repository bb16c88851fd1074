import { InvalidArgumentError, ProtocolError, TierkvError, TimeoutError, UnavailableError } from '@tierkv/core';
import type { ErrorCode } from '../protocol/messages.js';

/** The server refused the request (nothing was done): it, or this client's share of it, is at its in-flight limit, or its storage's write-through to L2 is behind. Retry later. */
export class ServerBusyError extends UnavailableError {
  readonly serverCode = 'BUSY' as const;
}

/** An error the server replied with: `serverCode` is the wire code (see docs/server.md). */
export type ServerReplyError = TierkvError & { readonly serverCode: ErrorCode; readonly field?: string };

/**
 * Maps an error reply to a typed error: BUSY → ServerBusyError, SHUTTING_DOWN → UnavailableError,
 * TIMEOUT → TimeoutError, request faults → InvalidArgumentError (naming the field), protocol
 * faults → ProtocolError, INTERNAL → TierkvError('ERR_INTERNAL').
 */
export function errorFromReply(code: ErrorCode, message: string, field: string | undefined, type: string, timeoutMs: number): ServerReplyError {
  const text = `server: ${message}`;
  let err: TierkvError;
  switch (code) {
    case 'BUSY':
      return new ServerBusyError(text) as ServerReplyError;
    case 'SHUTTING_DOWN':
      err = new UnavailableError(text);
      break;
    case 'TIMEOUT':
      err = new TimeoutError(`${type} (on the server)`, timeoutMs, 'the call\'s timeoutMs or the server\'s requestTimeoutMs');
      break;
    case 'BAD_REQUEST':
    case 'TOO_LARGE':
    case 'LAYOUT_MISMATCH':
    case 'NOT_FOUND':
      err = new InvalidArgumentError(field ?? type, text);
      break;
    case 'MALFORMED':
    case 'UNKNOWN_TYPE':
      err = new ProtocolError(text);
      break;
    default:
      err = new TierkvError('ERR_INTERNAL', text);
  }
  return Object.assign(err, { serverCode: code, ...(field === undefined ? {} : { field }) }) as ServerReplyError;
}
