import { TierkvError } from './tierkv-error.js';

/** A caller passed a value the API cannot accept; the message names the argument and the allowed values. */
export class InvalidArgumentError extends TierkvError {
  readonly argument: string;

  constructor(argument: string, message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_ARGUMENT', `${argument}: ${message}`, options);
    this.argument = argument;
  }
}
