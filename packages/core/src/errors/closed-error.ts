import { TierkvError } from './tierkv-error.js';

/** The component was closed; create a new one instead of reusing it. */
export class ClosedError extends TierkvError {
  constructor(component: string, operation: string) {
    super('ERR_CLOSED', `${component} is closed; ${operation}() cannot run after close(). Create a new ${component}.`);
  }
}
