import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built `tierkv` executable (`npm test` builds first). */
export const BIN = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits. */
  readonly exited: Promise<CliRun>;
  /** SIGKILLs the process if it is still running (cleanup). */
  kill(): void;
}

/** Starts `tierkv <args>` as a child process with its own environment (no inherited TIERKV_/OTEL_ settings). */
export function startCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): RunningCli {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('TIERKV_') && !k.startsWith('OTEL_')) env[k] = v;
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const exited = new Promise<CliRun>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can precede the last 'data' events; 'close' follows them.
      child.once('close', () => resolve({ code, signal, stdout: out, stderr: err }));
      if (child.stdout!.readableEnded && child.stderr!.readableEnded) resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Runs `tierkv <args>` to completion. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliRun> {
  return startCli(args, options).exited;
}
