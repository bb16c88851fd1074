import { TimeoutError } from '@tierkv/core';

/** Runs `work` but gives up after `ms` (shutdown steps must not hang the process). */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `work` without a deadline, calling `report` every `everyMs` while it runs. */
export async function whileReporting<T>(work: Promise<T>, everyMs: number, report: () => void): Promise<T> {
  const timer = setInterval(() => {
    try {
      report();
    } catch {
      // A report is best effort (the storage may be closing under it).
    }
  }, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
