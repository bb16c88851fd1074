import { ConfigError } from '../errors/config-error.js';

/**
 * Refuses an options object with a key the module does not know (a typo such as
 * `storeQueueLimitByte` would otherwise be ignored silently): a ConfigError naming the key, with
 * the close match if there is one and the options that exist.
 */
export function refuseUnknownOptions(options: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const close = known.find((k) => k.toLowerCase().startsWith(key.toLowerCase().slice(0, Math.max(3, key.length - 2))) || key.toLowerCase().startsWith(k.toLowerCase()));
    throw new ConfigError(`${path}.${key}`, `unknown option${close ? ` (did you mean ${close}?)` : ''}; the options are: ${known.join(', ')}`);
  }
}
