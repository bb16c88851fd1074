import { TierkvError } from './tierkv-error.js';

/** A backend (Redis, a server, the controller) cannot be reached right now; retrying later may succeed. */
export class UnavailableError extends TierkvError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_UNAVAILABLE', message, options);
  }
}
