import { debuglog } from 'node:util';

export interface DebugLogger {
  (message: string, ...args: unknown[]): void;
  readonly enabled: boolean;
}

/**
 * A namespaced logger that costs nothing when off: enable with `NODE_DEBUG=tierkv:*` (or one module,
 * `NODE_DEBUG=tierkv:l1`). Check `.enabled` before building expensive messages.
 */
export function debugLogger(namespace: string): DebugLogger {
  const log = debuglog(namespace);
  const fn = ((message: string, ...args: unknown[]) => log(message, ...args)) as DebugLogger;
  Object.defineProperty(fn, 'enabled', { get: () => log.enabled });
  return fn;
}
