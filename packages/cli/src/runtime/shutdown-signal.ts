/**
 * Resolves with the first SIGTERM or SIGINT (or when `abort` fires). A second signal while
 * shutting down exits at once with code 130, the way a user expects a double Ctrl-C to work.
 */
export function waitForShutdownSignal(options: { abort?: AbortSignal; onSecondSignal?: () => void } = {}): Promise<NodeJS.Signals | 'abort'> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        (options.onSecondSignal ?? (() => process.exit(130)))();
        return;
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    options.abort?.addEventListener('abort', () => {
      if (!received) {
        received = true;
        resolve('abort');
      }
    }, { once: true });
  });
}
