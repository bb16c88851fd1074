import { ServerBusyError } from '@tierkv/server';

export interface BusyRetryOptions {
  readonly signal: AbortSignal;
  /** Called before each retry (counting). */
  readonly onRetry?: () => void;
  /** Give up (rethrow the BUSY) once this much time has gone by. @default 30_000 */
  readonly budgetMs?: number;
  /** First wait; doubles per retry up to `maxDelayMs`, with jitter. @default 10 */
  readonly initialDelayMs?: number;
  /** @default 1_000 */
  readonly maxDelayMs?: number;
}

/**
 * Runs `op`, retrying a ServerBusyError (the server refused before doing anything, and asks to
 * retry shortly) with jittered exponential backoff, as a well-behaved client does. Any other
 * error, an abort, or an exhausted budget ends it with the error.
 */
export async function withBusyRetry<T>(op: () => Promise<T>, o: BusyRetryOptions): Promise<T> {
  const giveUpAt = performance.now() + (o.budgetMs ?? 30_000);
  const maxDelay = o.maxDelayMs ?? 1_000;
  let delay = o.initialDelayMs ?? 10;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof ServerBusyError) || o.signal.aborted || performance.now() + delay > giveUpAt) throw err;
      o.onRetry?.();
      // Jitter spreads the clients that were refused together, so they do not come back together.
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
