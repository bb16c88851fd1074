import { TierkvError } from './tierkv-error.js';

/** An operation did not finish within its deadline; the message names the option that sets it. */
export class TimeoutError extends TierkvError {
  readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number, option?: string) {
    const hint = option ? ` Raise ${option} if the peer is slow but healthy.` : '';
    super('ERR_TIMEOUT', `${operation} timed out after ${timeoutMs} ms.${hint}`);
    this.timeoutMs = timeoutMs;
  }
}
