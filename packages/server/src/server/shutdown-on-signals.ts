import type { TierkvServer } from './tierkv-server.js';

export interface ShutdownOnSignalsOptions {
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** Runs after the server has shut down, e.g. a final metric export (`otel.shutdown()`). */
  afterShutdown?: () => Promise<void> | void;
  /** Exit the process when done (0, or 1 if shutting down failed). @default true */
  exit?: boolean;
  /** Told once shutdown starts and once it ends (or fails). */
  log?: (message: string) => void;
}

/**
 * Shuts `server` down gracefully on SIGTERM/SIGINT: stop accepting, finish or fail in-flight
 * requests, flush pending L2 stores, run `afterShutdown`, then exit 0. A second signal while
 * draining exits at once with code 1. Returns a function that removes the handlers.
 */
export function shutdownOnSignals(server: TierkvServer, options: ShutdownOnSignalsOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const exit = options.exit ?? true;
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      // Say what exiting mid-flush loses: acknowledged stores still waiting for their L2 copy.
      let lost = 0;
      try {
        lost = server.options.storage.usage().storeQueueKeys ?? 0;
      } catch {
        // closed: the flush finished
      }
      options.log?.(`${signal} again: exiting without waiting${lost > 0 ? `; ${lost} acknowledged stores were not flushed to L2 and are lost` : ''}`);
      process.exit(1);
    }
    shuttingDown = true;
    options.log?.(`${signal}: shutting down (draining requests, flushing L2 stores)`);
    void (async () => {
      let code = 0;
      try {
        await server.shutdown();
        await options.afterShutdown?.();
        options.log?.('shut down cleanly');
      } catch (err) {
        code = 1;
        options.log?.(`shutdown failed: ${(err as Error).message}`);
      }
      if (exit) process.exit(code);
    })();
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
