import { ClosedError, debugLogger } from '@tierkv/core';
import type { ErrorCode } from '../protocol/messages.js';
import { WireError } from '../protocol/wire-error.js';
import type { RejectReason, ServerOutcome } from './server-metrics.js';

const log = debugLogger('tierkv:server');

/** The metric outcome of each wire error code. */
export const OUTCOME_OF: Record<ErrorCode, ServerOutcome> = {
  MALFORMED: 'client_error',
  UNKNOWN_TYPE: 'client_error',
  BAD_REQUEST: 'client_error',
  TOO_LARGE: 'client_error',
  LAYOUT_MISMATCH: 'client_error',
  NOT_FOUND: 'client_error',
  BUSY: 'busy',
  TIMEOUT: 'timeout',
  SHUTTING_DOWN: 'shutting_down',
  INTERNAL: 'internal_error',
};

/** The reject reason counted for codes refused without serving. */
export const REJECT_OF: Partial<Record<ErrorCode, RejectReason>> = {
  MALFORMED: 'malformed',
  UNKNOWN_TYPE: 'unknown_type',
  BAD_REQUEST: 'invalid',
  LAYOUT_MISMATCH: 'invalid',
  TOO_LARGE: 'too_large',
  BUSY: 'busy',
  SHUTTING_DOWN: 'shutting_down',
};

/** Any failure of a handler as the WireError the client receives. */
export function toWireError(err: unknown, type: string): WireError {
  if (err instanceof WireError) return err;
  if (err instanceof ClosedError) return new WireError('SHUTTING_DOWN', err.message);
  const e = err as { code?: string; message?: string; argument?: string };
  if (e?.code === 'ERR_INVALID_ARGUMENT') return new WireError('BAD_REQUEST', e.message ?? 'invalid argument', e.argument);
  log('%s failed: %s', type, (err as Error)?.stack ?? String(err));
  return new WireError('INTERNAL', `${type} failed on the server: ${e?.message ?? String(err)}`);
}
