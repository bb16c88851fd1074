import { TierkvError } from './tierkv-error.js';

/**
 * An option, environment variable or config-file field is malformed. `field` is the option path
 * (`l1.capacityBytes`) or the variable name (`OTEL_EXPORTER_OTLP_ENDPOINT`).
 */
export class ConfigError extends TierkvError {
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', `${field}: ${message}`, options);
    this.field = field;
  }
}
