import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './free-port.js';

/** Whether a binary is on PATH. */
export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Call in a mocha `before`: skips the suite (with a message) when `redis-server` is missing, but
 * throws when `CI=true`, where a missing server is a failure, never a skip.
 */
export function requireRedisServer(ctx: { skip(): void }, binaries: readonly string[] = ['redis-server']): void {
  const missing = binaries.filter((b) => !hasBinary(b));
  if (missing.length === 0) return;
  const message = `${missing.join(', ')} not found on PATH (install redis-server / redis-tools)`;
  if (process.env['CI'] === 'true') throw new Error(`${message}; required when CI=true`);
  console.warn(`      skipped: ${message}`);
  ctx.skip();
}

/** Sends one inline command over a fresh TCP connection and returns the raw reply (or throws). */
export function rawRedisCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${command} from 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
      // A simple-string / error / integer reply ends at the first CRLF; a bulk string after its body.
      const m = /^\$(\d+)\r\n/.exec(data);
      if ((m && data.length >= m[0].length + Number(m[1]) + 2) || (!data.startsWith('$') && data.includes('\r\n'))) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await rawRedisCommand(port, 'PING', 500)).startsWith('+PONG')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RedisServerOptions {
  /** @default a free loopback port */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: readonly string[];
  /** Working directory (cluster config files, dumps). @default the process cwd; nothing is saved. */
  dir?: string;
  /** @default 10000 */
  startTimeoutMs?: number;
}

/**
 * One `redis-server` on 127.0.0.1 with persistence off, started by a test and stopped by it.
 * `pause()`/`resume()` freeze it (SIGSTOP/SIGCONT: connections stay open, nothing answers);
 * `stop()` kills it and `start()` brings it back on the same port (empty, as after a crash).
 */
export class RedisServer {
  readonly port: number;
  readonly #options: RedisServerOptions;
  #child: ChildProcess | undefined;
  #output = '';
  #paused = false;

  private constructor(port: number, options: RedisServerOptions) {
    this.port = port;
    this.#options = options;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--protected-mode', 'no',
      ...(this.#options.dir ? ['--dir', this.#options.dir] : []),
      ...(this.#options.args ?? []),
    ];
    this.#output = '';
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.#options.dir });
    child.stdout!.on('data', (d: Buffer) => (this.#output = (this.#output + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d: Buffer) => (this.#output = (this.#output + d.toString()).slice(-4000)));
    child.on('error', (err) => (this.#output += `\nspawn error: ${err.message}`));
    this.#child = child;
    this.#paused = false;
    try {
      await waitForPing(this.port, child, this.#options.startTimeoutMs ?? 10_000, () => this.#output);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** SIGSTOP: the server keeps its sockets but answers nothing (a hung Redis). */
  pause(): void {
    if (this.#child && this.running && !this.#paused) {
      this.#child.kill('SIGSTOP');
      this.#paused = true;
    }
  }

  resume(): void {
    if (this.#child && this.#paused) {
      this.#child.kill('SIGCONT');
      this.#paused = false;
    }
  }

  /** Kills the server (SIGKILL: a crash, no goodbye) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    if (this.#paused) child.kill('SIGCONT');
    this.#paused = false;
    await exited;
  }

  /** The last few KB the server printed (for failure messages). */
  get output(): string {
    return this.#output;
  }
}
