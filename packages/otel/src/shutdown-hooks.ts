import type { TelemetryHandle } from './start-telemetry.js';

export interface ShutdownHookOptions {
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** Runs first (e.g. drain a server, flush L2 stores), so its metrics make the final export. */
  beforeShutdown?: () => Promise<void> | void;
  /** Give up waiting for the final export after this long. @default 10000 */
  timeoutMillis?: number;
  /** Exit the process afterwards with 128 + the signal number, as an unhandled signal would. @default true */
  exit?: boolean;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/**
 * On the first of `signals`: runs `beforeShutdown`, shuts telemetry down (final export) within
 * `timeoutMillis`, then exits. A second signal while shutting down exits at once. Returns a
 * function that removes the hooks.
 */
export function installShutdownHooks(handle: Pick<TelemetryHandle, 'shutdown'>, options: ShutdownHookOptions = {}): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const timeoutMillis = options.timeoutMillis ?? 10_000;
  const exit = options.exit ?? true;
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    const code = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
    if (shuttingDown) {
      if (exit) process.exit(code);
      return;
    }
    shuttingDown = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMillis);
      timer.unref();
    });
    const work = (async () => {
      try {
        await options.beforeShutdown?.();
      } finally {
        await handle.shutdown();
      }
    })().catch((err: unknown) => console.error('tierkv: shutdown failed', err));
    void Promise.race([work, deadline]).then(() => {
      clearTimeout(timer);
      if (exit) process.exit(code);
      else uninstall();
    });
  };

  const uninstall = (): void => {
    for (const s of signals) process.off(s, onSignal);
  };
  for (const s of signals) process.on(s, onSignal);
  return uninstall;
}
