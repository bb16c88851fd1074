import { TierkvError } from './tierkv-error.js';

/** A peer sent a frame or message that does not follow the wire protocol. */
export class ProtocolError extends TierkvError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, options);
  }
}
